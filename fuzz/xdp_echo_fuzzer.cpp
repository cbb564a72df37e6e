// Fuzzes the reply writer of `zcopy xdp echo`, whose input is whatever arrives on the wire: any
// bytes give a reply or no change, never a read or write outside the frame; a UDP reply echoed
// again is the original; an ARP or ICMP reply gets no reply of its own.
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
      if (zc::xdp::echo_in_place(frame, kOwn) != zc::xdp::EchoReply::udp) std::abort();
      if (std::memcmp(frame.data(), data, size) != 0) std::abort();
      break;
    }
    case zc::xdp::EchoReply::arp:
    case zc::xdp::EchoReply::icmp_echo:
      if (zc::xdp::echo_in_place(frame, kOwn) != zc::xdp::EchoReply::none) std::abort();
      break;
  }
  return 0;
}
