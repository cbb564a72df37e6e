// zcopy/xdp/bind_mode.hpp: how an AF_XDP socket gets its packets, and which ways a caller allows.
//
// From fastest to slowest: zero-copy (the driver DMAs straight into the UMEM; needs driver
// support, which veth lacks), native copy (the driver runs the XDP program and the kernel copies
// each packet into the UMEM before any skb exists), skb copy (generic XDP: the program runs on
// an skb the stack already built, then the packet is copied). ModeChoice::automatic tries them in
// that order and the socket reports, in one line, the mode it got and why not a faster one.
#pragma once

#include <optional>
#include <string_view>

namespace zc::xdp {

enum class BindMode { zero_copy, native_copy, skb_copy };

enum class ModeChoice {
  automatic,    // the fastest that works
  zero_copy,    // zero-copy or Errc::capability_missing
  native_copy,  // a driver-mode program, copy bind
  skb_copy,     // a generic (skb) program, copy bind
};

// "zero-copy", "native copy", "skb copy".
std::string_view to_string(BindMode mode) noexcept;
// "auto", "zero-copy", "native", "skb".
std::string_view to_string(ModeChoice choice) noexcept;
std::optional<ModeChoice> parse_mode_choice(std::string_view text) noexcept;

}  // namespace zc::xdp
