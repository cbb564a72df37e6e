// Replies written over requests: ARP, ICMP echo and UDP, checked against frames built
// independently and against the checksums a receiver verifies; everything else is left alone.
#include "zcopy/xdp/packet_echo.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "bench/support/packets.hpp"

namespace zc::xdp {
namespace {

constexpr std::array<std::uint8_t, 6> kOwn = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
constexpr std::array<std::uint8_t, 6> kPeer = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};

std::vector<std::byte> bytes(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (int v : values) out.push_back(std::byte(v));
  return out;
}

std::uint16_t sum_is_zero_check(std::span<const std::byte> b) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < b.size(); i += 2) {
    sum += (std::to_integer<std::uint32_t>(b[i]) << 8) | std::to_integer<std::uint32_t>(b[i + 1]);
  }
  if (b.size() % 2) sum += std::to_integer<std::uint32_t>(b.back()) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);  // 0 when the checksum inside is right
}

std::vector<std::byte> arp_request() {
  std::vector<std::byte> f(60);  // padded to the Ethernet minimum
  std::memset(f.data(), 0xff, 6);
  std::memcpy(&f[6], kPeer.data(), 6);
  const auto arp = bytes({0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 1});
  std::memcpy(&f[12], arp.data(), arp.size());
  std::memcpy(&f[22], kPeer.data(), 6);
  const auto ips = bytes({10, 0, 0, 2, 0, 0, 0, 0, 0, 0, 10, 0, 0, 1});
  std::memcpy(&f[28], ips.data(), ips.size());
  return f;
}

std::vector<std::byte> icmp_echo_request(std::size_t data) {
  std::vector<std::byte> f(14 + 20 + 8 + data);
  std::memcpy(&f[0], kOwn.data(), 6);
  std::memcpy(&f[6], kPeer.data(), 6);
  f[12] = std::byte{0x08};
  auto ip = std::span(f).subspan(14);
  const auto header =
      bytes({0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 63, 1, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1});
  std::memcpy(ip.data(), header.data(), header.size());
  ip[2] = std::byte((20 + 8 + data) >> 8);
  ip[3] = std::byte((20 + 8 + data) & 0xff);
  const std::uint16_t ip_sum = sum_is_zero_check(ip.first(20));
  ip[10] = std::byte(ip_sum >> 8);
  ip[11] = std::byte(ip_sum & 0xff);
  auto icmp = ip.subspan(20);
  icmp[0] = std::byte{8};
  icmp[4] = std::byte{0x77};  // identifier
  icmp[7] = std::byte{3};     // sequence
  for (std::size_t i = 8; i < icmp.size(); ++i) icmp[i] = std::byte(i);
  const std::uint16_t icmp_sum = sum_is_zero_check(icmp);
  icmp[2] = std::byte(icmp_sum >> 8);
  icmp[3] = std::byte(icmp_sum & 0xff);
  return f;
}

TEST(PacketEcho, AnArpRequestBecomesTheReplyForTheAskedAddress) {
  std::vector<std::byte> f = arp_request();
  ASSERT_EQ(echo_in_place(f, kOwn), EchoReply::arp);
  EXPECT_EQ(std::memcmp(&f[0], kPeer.data(), 6), 0) << "to the asker";
  EXPECT_EQ(std::memcmp(&f[6], kOwn.data(), 6), 0);
  EXPECT_EQ(f[21], std::byte{2}) << "op: reply";
  EXPECT_EQ(std::memcmp(&f[22], kOwn.data(), 6), 0) << "the answer: our MAC";
  EXPECT_EQ(f[28], std::byte{10});
  EXPECT_EQ(f[31], std::byte{1}) << "for the address asked about";
  EXPECT_EQ(std::memcmp(&f[32], kPeer.data(), 6), 0);
  EXPECT_EQ(f[41], std::byte{2}) << "to the asker's address";
  EXPECT_EQ(echo_in_place(f, kOwn), EchoReply::none) << "a reply gets no reply";
}

TEST(PacketEcho, AnIcmpEchoRequestBecomesAReplyWithGoodChecksums) {
  std::vector<std::byte> f = icmp_echo_request(56);
  ASSERT_EQ(echo_in_place(f, kOwn), EchoReply::icmp_echo);
  const auto ip = std::span<const std::byte>(f).subspan(14);
  EXPECT_EQ(sum_is_zero_check(ip.first(20)), 0) << "IPv4 header checksum";
  EXPECT_EQ(sum_is_zero_check(ip.subspan(20)), 0) << "ICMP checksum";
  EXPECT_EQ(ip[20], std::byte{0}) << "type: echo reply";
  EXPECT_EQ(ip[15], std::byte{1}) << "from the address that was pinged";
  EXPECT_EQ(ip[19], std::byte{2}) << "to the pinger";
  EXPECT_EQ(ip[24], std::byte{0x77}) << "identifier kept";
  EXPECT_EQ(std::memcmp(&f[0], kPeer.data(), 6), 0);
  EXPECT_EQ(echo_in_place(f, kOwn), EchoReply::none);
}

TEST(PacketEcho, AUdpDatagramGoesBackToItsSenderTwiceGivesTheOriginal) {
  bench::UdpFlow flow{kPeer, kOwn, "10.0.0.2", "10.0.0.1", 4000, 9000};
  const std::vector<std::byte> original = bench::udp_frame(flow, bench::sequenced_payload(9, 77));
  std::vector<std::byte> f = original;
  ASSERT_EQ(echo_in_place(f, kOwn), EchoReply::udp);
  bench::UdpFlow back{kOwn, kPeer, "10.0.0.1", "10.0.0.2", 9000, 4000};
  EXPECT_EQ(f, bench::udp_frame(back, bench::sequenced_payload(9, 77)))
      << "exactly the datagram the other way round, checksums included";
  ASSERT_EQ(echo_in_place(f, kOwn), EchoReply::udp);
  EXPECT_EQ(f, original);
}

TEST(PacketEcho, AUdpChecksumLeftToOffloadIsCompletedInTheReply) {
  // What a sender with checksum offload hands the wire: only the pseudo-header's sum.
  bench::UdpFlow flow{kPeer, kOwn, "10.0.0.2", "10.0.0.1", 4000, 9000};
  std::vector<std::byte> f = bench::udp_frame(flow, bench::sequenced_payload(3, 50));
  const auto ip = std::span<std::byte>(f).subspan(14);
  const auto udp = ip.subspan(20);
  const std::uint16_t length = 8 + 50;
  std::uint32_t pseudo = 17u + length + 0x0a00 + 0x0002 + 0x0a00 + 0x0001;
  while (pseudo >> 16) pseudo = (pseudo & 0xffff) + (pseudo >> 16);
  udp[6] = std::byte(pseudo >> 8);
  udp[7] = std::byte(pseudo & 0xff);
  ASSERT_EQ(echo_in_place(f, kOwn), EchoReply::udp);
  bench::UdpFlow back{kOwn, kPeer, "10.0.0.1", "10.0.0.2", 9000, 4000};
  EXPECT_EQ(f, bench::udp_frame(back, bench::sequenced_payload(3, 50)))
      << "the reply carries the complete checksum a receiver checks";
}

TEST(PacketEcho, WhatItCannotAnswerIsLeftUntouched) {
  std::vector<std::vector<std::byte>> frames;
  frames.push_back({});                          // nothing
  frames.push_back(std::vector<std::byte>(13));  // shorter than Ethernet
  std::vector<std::byte> truncated = icmp_echo_request(56);
  truncated.resize(40);  // IPv4 total length past the end
  frames.push_back(truncated);
  std::vector<std::byte> fragment = icmp_echo_request(8);
  fragment[14 + 6] = std::byte{0x20};  // more fragments
  frames.push_back(fragment);
  std::vector<std::byte> ipv6(80);
  ipv6[12] = std::byte{0x86};
  ipv6[13] = std::byte{0xdd};
  frames.push_back(ipv6);
  std::vector<std::byte> short_arp = arp_request();
  short_arp.resize(41);
  frames.push_back(short_arp);
  bench::UdpFlow flow{kPeer, kOwn, "10.0.0.2", "10.0.0.1", 1, 2};
  std::vector<std::byte> bad_udp = bench::udp_frame(flow, bench::sequenced_payload(1, 20));
  bad_udp[14 + 20 + 5] = std::byte{200};  // UDP length past the datagram
  frames.push_back(bad_udp);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    std::vector<std::byte> f = frames[i];
    EXPECT_EQ(echo_in_place(f, kOwn), EchoReply::none) << "frame " << i;
    EXPECT_EQ(f, frames[i]) << "frame " << i << " was changed";
  }
}

}  // namespace
}  // namespace zc::xdp
