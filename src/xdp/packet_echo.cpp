// echo_in_place: Ethernet, ARP, IPv4, ICMP and UDP read with every length checked, and the reply
// written over the request.
#include "zcopy/xdp/packet_echo.hpp"

#include <algorithm>
#include <cstring>

namespace zc::xdp {
namespace {

constexpr std::size_t kEthernet = 14;
constexpr std::uint16_t kTypeIpv4 = 0x0800;
constexpr std::uint16_t kTypeArp = 0x0806;

std::uint16_t get16(std::span<const std::byte> b, std::size_t at) {
  return static_cast<std::uint16_t>((std::to_integer<unsigned>(b[at]) << 8) |
                                    std::to_integer<unsigned>(b[at + 1]));
}

void put16(std::span<std::byte> b, std::size_t at, std::uint16_t value) {
  b[at] = std::byte(value >> 8);
  b[at + 1] = std::byte(value & 0xff);
}

void swap_ranges(std::span<std::byte> b, std::size_t first, std::size_t second, std::size_t n) {
  std::swap_ranges(b.begin() + static_cast<std::ptrdiff_t>(first),
                   b.begin() + static_cast<std::ptrdiff_t>(first + n),
                   b.begin() + static_cast<std::ptrdiff_t>(second));
}

// The Internet checksum of `b` (RFC 1071), on top of `sum` (a pseudo-header's words).
std::uint16_t checksum(std::span<const std::byte> b, std::uint32_t sum = 0) {
  for (std::size_t i = 0; i + 1 < b.size(); i += 2) sum += get16(b, i);
  if (b.size() % 2 != 0) sum += std::to_integer<std::uint32_t>(b.back()) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

EchoReply arp(std::span<std::byte> f, const std::array<std::uint8_t, 6>& own_mac) {
  // Ethernet/IPv4 ARP: htype 1, ptype 0x0800, hlen 6, plen 4, then op and the four addresses.
  constexpr std::size_t kArp = 28;
  if (f.size() < kEthernet + kArp) return EchoReply::none;
  const auto a = f.subspan(kEthernet, kArp);
  if (get16(a, 0) != 1 || get16(a, 2) != kTypeIpv4 || a[4] != std::byte{6} ||
      a[5] != std::byte{4} || get16(a, 6) != 1) {
    return EchoReply::none;
  }
  // Reply: target <- sender; sender <- (own_mac, the address asked for).
  std::array<std::byte, 4> asked;
  std::memcpy(asked.data(), &a[24], 4);
  std::memcpy(&a[18], &a[8], 10);  // sender hardware and protocol address become the target's
  for (std::size_t i = 0; i < 6; ++i) a[8 + i] = std::byte{own_mac[i]};
  std::memcpy(&a[14], asked.data(), 4);
  put16(a, 6, 2);
  std::memcpy(&f[0], &a[18], 6);  // to the asker
  for (std::size_t i = 0; i < 6; ++i) f[6 + i] = std::byte{own_mac[i]};
  return EchoReply::arp;
}

EchoReply ipv4(std::span<std::byte> f) {
  if (f.size() < kEthernet + 20) return EchoReply::none;
  const auto ip_bytes = f.subspan(kEthernet);
  const unsigned version = std::to_integer<unsigned>(ip_bytes[0]) >> 4;
  const std::size_t header = (std::to_integer<std::size_t>(ip_bytes[0]) & 0xf) * 4;
  const std::size_t total = get16(ip_bytes, 2);
  if (version != 4 || header < 20 || total < header || total > ip_bytes.size()) {
    return EchoReply::none;
  }
  if ((get16(ip_bytes, 6) & 0x3fff) != 0) return EchoReply::none;  // a fragment
  const auto ip = ip_bytes.first(total);
  const auto payload = ip.subspan(header);
  const unsigned protocol = std::to_integer<unsigned>(ip[9]);

  EchoReply reply = EchoReply::none;
  if (protocol == 1) {
    // ICMP echo request (type 8, code 0) -> echo reply (type 0), checksum over the message.
    if (payload.size() < 8 || payload[0] != std::byte{8} || payload[1] != std::byte{0}) {
      return EchoReply::none;
    }
    payload[0] = std::byte{0};
    put16(payload, 2, 0);
    put16(payload, 2, checksum(payload));
    reply = EchoReply::icmp_echo;
  } else if (protocol == 17) {
    if (payload.size() < 8) return EchoReply::none;
    const std::size_t length = get16(payload, 4);
    if (length < 8 || length > payload.size()) return EchoReply::none;
    swap_ranges(payload, 0, 2, 2);  // ports
    // Computed afresh rather than kept: a sender that offloads checksums (veth, most NICs) puts
    // only the pseudo-header's sum on the wire it hands us, which no receiver would accept.
    const auto udp = payload.first(length);
    std::uint32_t pseudo = 17u + static_cast<std::uint32_t>(length);
    for (std::size_t i = 12; i < 20; i += 2) pseudo += get16(ip, i);
    put16(udp, 6, 0);
    const std::uint16_t sum = checksum(udp, pseudo);
    put16(udp, 6, sum == 0 ? 0xffff : sum);  // 0 would mean "no checksum"
    reply = EchoReply::udp;
  } else {
    return EchoReply::none;
  }
  swap_ranges(ip, 12, 16, 4);  // addresses: the header checksum is unchanged by the swap
  if (reply == EchoReply::icmp_echo) {
    ip[8] = std::byte{64};  // a fresh TTL, as the kernel's own replies carry
    put16(ip, 10, 0);
    put16(ip, 10, checksum(ip.first(header)));
  }
  swap_ranges(f, 0, 6, 6);  // Ethernet destination and source
  return reply;
}

}  // namespace

std::string_view to_string(EchoReply reply) noexcept {
  switch (reply) {
    case EchoReply::none:
      return "none";
    case EchoReply::arp:
      return "arp";
    case EchoReply::icmp_echo:
      return "icmp-echo";
    case EchoReply::udp:
      return "udp";
  }
  return "unknown";
}

EchoReply echo_in_place(std::span<std::byte> frame, const std::array<std::uint8_t, 6>& own_mac) {
  if (frame.size() < kEthernet) return EchoReply::none;
  switch (get16(frame, 12)) {
    case kTypeArp:
      return arp(frame, own_mac);
    case kTypeIpv4:
      return ipv4(frame);
    default:
      return EchoReply::none;
  }
}

}  // namespace zc::xdp
