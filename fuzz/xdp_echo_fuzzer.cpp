// Fuzzes the reply writer of `zcopy xdp echo`, whose input is whatever arrives on the wire: any
// bytes give a reply or no change, never a read or write outside the frame; a UDP reply echoed
// again is the original but for its completed checksum; an ARP or ICMP reply gets no reply of its
// own.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "zcopy/xdp/packet_echo.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  constexpr std::array<std::uint8_t, 6> kOwn = {0x02, 0, 0, 0, 0, 1};
  // An exact-size copy, so the sanitizer sees any access past the frame.
  std::vector<std::byte> frame(size);
  if (size > 0) std::memcpy(frame.data(), data, size);
  const auto reply = zc::xdp::echo_in_place(frame, kOwn);
  switch (reply) {
    case zc::xdp::EchoReply::none:
      if (size > 0 && std::memcmp(frame.data(), data, size) != 0) std::abort();
      break;
    case zc::xdp::EchoReply::udp: {
      const std::vector<std::byte> reply = frame;
      if (zc::xdp::echo_in_place(frame, kOwn) != zc::xdp::EchoReply::udp) std::abort();
      // Back to the original, but for the UDP checksum, which every reply computes afresh (the
      // request's may have been left to offload); a third echo is the first reply again.
      const std::size_t checksum = 14 + (std::to_integer<std::size_t>(frame[14]) & 0xf) * 4 + 6;
      for (std::size_t i = 0; i < size; ++i) {
        if (i != checksum && i != checksum + 1 && frame[i] != std::byte{data[i]}) std::abort();
      }
      if (zc::xdp::echo_in_place(frame, kOwn) != zc::xdp::EchoReply::udp) std::abort();
      if (frame != reply) std::abort();
      break;
    }
    case zc::xdp::EchoReply::arp:
    case zc::xdp::EchoReply::icmp_echo:
      if (zc::xdp::echo_in_place(frame, kOwn) != zc::xdp::EchoReply::none) std::abort();
      break;
  }
  return 0;
}
