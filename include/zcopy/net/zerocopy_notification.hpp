// zcopy/net/zerocopy_notification.hpp: what one MSG_ZEROCOPY error-queue message says.
//
// After sendmsg(MSG_ZEROCOPY) the kernel numbers each successful call with a 32-bit counter and
// later queues, on the socket's error queue, a message saying that calls [lo, hi] no longer hold
// the caller's pages. Ranges of consecutive calls are merged, the counter wraps at 2^32, and a
// message may come out of order with respect to others. The code SO_EE_CODE_ZEROCOPY_COPIED says
// the kernel copied the data after all (loopback, veth and every local delivery do), so zero-copy
// bought nothing there.
//
//   msghdr msg = ...; ::recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT);
//   zc::Result<std::optional<zc::net::ZerocopyRange>> range = parse_zerocopy_notification(msg);
//
// A pure function of the message, so tests feed it hand-built messages.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>

#include "zcopy/core/error.hpp"

namespace zc::net {

struct ZerocopyRange {
  std::uint32_t lo = 0;  // first call completed
  std::uint32_t hi = 0;  // last call completed, inclusive; may be below lo after a wrap
  bool copied = false;   // SO_EE_CODE_ZEROCOPY_COPIED: the kernel copied the data anyway

  // How many calls the range covers (1 to 2^32), counting across a wrap.
  std::uint64_t count() const noexcept { return std::uint64_t{std::uint32_t(hi - lo)} + 1; }
};

// The zero-copy range the message reports, or nullopt when it carries no extended error at all.
// A socket error queued beside the notifications (ee_errno set, another origin: an ICMP error on
// UDP, say) comes back as an Error with that errno, naming its origin.
Result<std::optional<ZerocopyRange>> parse_zerocopy_notification(const msghdr& message);

}  // namespace zc::net
