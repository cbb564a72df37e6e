// bench/support/packets.hpp: Ethernet/IPv4/UDP frames built and read back, for the traffic the
// XDP benchmarks and tests send and the checks they make on what arrived.
//
//   const auto frame = zc::bench::udp_frame(flow, zc::bench::sequenced_payload(7, 64));
//   std::optional<std::uint32_t> n = zc::bench::sequence_of(zc::bench::udp_payload_of(frame));
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "zcopy/core/error.hpp"

namespace zc::bench {

using MacAddress = std::array<std::uint8_t, 6>;

// "02:ab:..:ff" -> bytes; nullopt when malformed.
std::optional<MacAddress> parse_mac(std::string_view text);

struct UdpFlow {
  MacAddress source_mac{};
  MacAddress destination_mac{};
  std::string source_ip;       // dotted quad
  std::string destination_ip;  // dotted quad
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
};

// A whole frame with correct IPv4 and UDP checksums; empty when an address does not parse.
std::vector<std::byte> udp_frame(const UdpFlow& flow, std::span<const std::byte> payload);

// The UDP payload inside an Ethernet/IPv4/UDP frame (checked lengths); empty when the frame is
// anything else.
std::span<const std::byte> udp_payload_of(std::span<const std::byte> frame);

// The payload of datagram `sequence`: the number (4 bytes, big-endian), then bytes derived from
// it, so a payload that arrives damaged or from another datagram is recognised.
std::vector<std::byte> sequenced_payload(std::uint32_t sequence, std::size_t size);
// The sequence number of an intact sequenced payload; nullopt for anything else.
std::optional<std::uint32_t> sequence_of(std::span<const std::byte> payload);

// Sends `count` sequenced datagrams of `size` bytes to ip:port (from sequence `first`) over a UDP
// socket of the calling thread's namespace; how many the kernel accepted.
Result<std::uint64_t> send_datagrams(const std::string& ip, std::uint16_t port, std::uint64_t count,
                                     std::size_t size, std::uint32_t first = 0);

}  // namespace zc::bench
