#include "bench/support/packets.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "zcopy/core/fd.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc::bench {
namespace {

constexpr std::size_t kEthernet = 14;
constexpr std::size_t kIpv4 = 20;
constexpr std::size_t kUdp = 8;

void put16(std::byte* at, std::uint16_t value) {
  at[0] = std::byte(value >> 8);
  at[1] = std::byte(value & 0xff);
}

std::uint16_t get16(const std::byte* at) {
  return static_cast<std::uint16_t>((std::to_integer<unsigned>(at[0]) << 8) |
                                    std::to_integer<unsigned>(at[1]));
}

std::uint32_t sum16(std::span<const std::byte> bytes, std::uint32_t sum = 0) {
  for (std::size_t i = 0; i + 1 < bytes.size(); i += 2) sum += get16(&bytes[i]);
  if (bytes.size() % 2 != 0) sum += std::to_integer<std::uint32_t>(bytes.back()) << 8;
  return sum;
}

std::uint16_t fold(std::uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

std::byte pattern(std::uint32_t sequence, std::size_t i) {
  return std::byte((sequence * 131 + i * 7) & 0xff);
}

}  // namespace

std::optional<MacAddress> parse_mac(std::string_view text) {
  MacAddress mac{};
  unsigned parts[6];
  char tail = 0;
  const std::string copy(text);
  if (std::sscanf(copy.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &parts[0], &parts[1], &parts[2],
                  &parts[3], &parts[4], &parts[5], &tail) != 6) {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < 6; ++i) mac[i] = static_cast<std::uint8_t>(parts[i]);
  return mac;
}

std::vector<std::byte> udp_frame(const UdpFlow& flow, std::span<const std::byte> payload) {
  in_addr source{}, destination{};
  if (::inet_pton(AF_INET, flow.source_ip.c_str(), &source) != 1 ||
      ::inet_pton(AF_INET, flow.destination_ip.c_str(), &destination) != 1) {
    return {};
  }
  std::vector<std::byte> frame(kEthernet + kIpv4 + kUdp + payload.size());
  std::byte* e = frame.data();
  for (std::size_t i = 0; i < 6; ++i) {
    e[i] = std::byte{flow.destination_mac[i]};
    e[6 + i] = std::byte{flow.source_mac[i]};
  }
  put16(e + 12, 0x0800);
  std::byte* ip = e + kEthernet;
  ip[0] = std::byte{0x45};
  put16(ip + 2, static_cast<std::uint16_t>(kIpv4 + kUdp + payload.size()));
  ip[6] = std::byte{0x40};  // don't fragment
  ip[8] = std::byte{64};    // TTL
  ip[9] = std::byte{17};    // UDP
  std::memcpy(ip + 12, &source, 4);
  std::memcpy(ip + 16, &destination, 4);
  put16(ip + 10, fold(sum16({ip, kIpv4})));
  std::byte* udp = ip + kIpv4;
  put16(udp, flow.source_port);
  put16(udp + 2, flow.destination_port);
  const auto udp_length = static_cast<std::uint16_t>(kUdp + payload.size());
  put16(udp + 4, udp_length);
  std::memcpy(udp + kUdp, payload.data(), payload.size());
  // The checksum over the pseudo-header (addresses, protocol, length) and the datagram.
  std::uint32_t sum = sum16({ip + 12, 8}) + 17 + udp_length;
  sum = sum16({udp, udp_length}, sum);
  std::uint16_t checksum = fold(sum);
  put16(udp + 6, checksum == 0 ? 0xffff : checksum);
  return frame;
}

std::span<const std::byte> udp_payload_of(std::span<const std::byte> frame) {
  if (frame.size() < kEthernet + kIpv4 + kUdp || get16(&frame[12]) != 0x0800) return {};
  const auto ip = frame.subspan(kEthernet);
  const std::size_t header = (std::to_integer<std::size_t>(ip[0]) & 0xf) * 4;
  if ((std::to_integer<unsigned>(ip[0]) >> 4) != 4 || header < kIpv4 ||
      std::to_integer<unsigned>(ip[9]) != 17) {
    return {};
  }
  const std::size_t total = get16(&ip[2]);
  if (total > ip.size() || total < header + kUdp) return {};
  const auto udp = ip.subspan(header, total - header);
  const std::size_t length = get16(&udp[4]);
  if (length < kUdp || length > udp.size()) return {};
  return udp.subspan(kUdp, length - kUdp);
}

std::vector<std::byte> sequenced_payload(std::uint32_t sequence, std::size_t size) {
  std::vector<std::byte> payload(std::max<std::size_t>(size, 4));
  const std::uint32_t big = htonl(sequence);
  std::memcpy(payload.data(), &big, 4);
  for (std::size_t i = 4; i < payload.size(); ++i) payload[i] = pattern(sequence, i);
  return payload;
}

std::optional<std::uint32_t> sequence_of(std::span<const std::byte> payload) {
  if (payload.size() < 4) return std::nullopt;
  std::uint32_t big;
  std::memcpy(&big, payload.data(), 4);
  const std::uint32_t sequence = ntohl(big);
  for (std::size_t i = 4; i < payload.size(); ++i) {
    if (payload[i] != pattern(sequence, i)) return std::nullopt;
  }
  return sequence;
}

Result<std::uint64_t> send_datagrams(const std::string& ip, std::uint16_t port, std::uint64_t count,
                                     std::size_t size, std::uint32_t first) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  if (::inet_pton(AF_INET, ip.c_str(), &to.sin_addr) != 1) {
    return fail(Errc::invalid_argument, "send_datagrams", "bad address " + ip);
  }
  auto fd = sys_call("socket(AF_INET, SOCK_DGRAM)",
                     [] { return ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); });
  if (!fd) return std::unexpected(fd.error());
  const Fd socket = Fd::adopt(*fd);
  std::uint64_t sent = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    const auto payload = sequenced_payload(first + static_cast<std::uint32_t>(i), size);
    auto n = sys_call({"sendto", socket.get()}, [&] {
      return ::sendto(socket.get(), payload.data(), payload.size(), 0,
                      reinterpret_cast<const sockaddr*>(&to), sizeof to);
    });
    if (!n) return std::unexpected(n.error());
    ++sent;
  }
  return sent;
}

}  // namespace zc::bench
