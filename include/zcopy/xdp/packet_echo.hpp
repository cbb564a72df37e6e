// zcopy/xdp/packet_echo.hpp: a received frame turned into its reply where it lies, for
// `zcopy xdp echo`, so the reply leaves from the same frame without a copy.
//
//   ARP request for any IPv4 address  ->  ARP reply: that address is at `own_mac`
//   IPv4 ICMP echo request            ->  echo reply (addresses swapped, checksums updated)
//   IPv4 UDP datagram                 ->  the datagram back to its sender (addresses and ports
//                                         swapped; the checksums hold as they are)
//   anything else                     ->  no reply, the frame untouched
//
// Answering ARP for every address lets the far side reach any address through the echo.
// The frame is outside input: every length and offset is checked before it is used, and
// fragments, IP options beyond the header length, VLAN tags and short frames get no reply.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace zc::xdp {

enum class EchoReply { none, arp, icmp_echo, udp };

std::string_view to_string(EchoReply reply) noexcept;

// Rewrites `frame` into its reply and says which; EchoReply::none leaves it as it was.
EchoReply echo_in_place(std::span<std::byte> frame, const std::array<std::uint8_t, 6>& own_mac);

}  // namespace zc::xdp
