// Parsing of MSG_ZEROCOPY error-queue messages (see zerocopy_notification.hpp).
#include "zcopy/net/zerocopy_notification.hpp"

#include <linux/errqueue.h>
#include <netinet/in.h>

#include <cstring>
#include <string>

namespace zc::net {

Result<std::optional<ZerocopyRange>> parse_zerocopy_notification(const msghdr& message) {
  if (message.msg_control == nullptr || message.msg_controllen < sizeof(cmsghdr)) {
    return std::optional<ZerocopyRange>{};
  }
  // CMSG_NXTHDR takes a non-const msghdr although it only reads it.
  msghdr copy = message;
  for (cmsghdr* c = CMSG_FIRSTHDR(&copy); c != nullptr; c = CMSG_NXTHDR(&copy, c)) {
    const bool v4 = c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR;
    const bool v6 = c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR;
    if (!v4 && !v6) continue;
    if (c->cmsg_len < CMSG_LEN(sizeof(sock_extended_err))) {
      return fail(Errc::corrupt, "MSG_ERRQUEUE message",
                  "extended error of " + std::to_string(c->cmsg_len) + " bytes is truncated");
    }
    sock_extended_err err{};
    std::memcpy(&err, CMSG_DATA(c), sizeof err);  // CMSG_DATA need not be aligned for the struct
    if (err.ee_origin != SO_EE_ORIGIN_ZEROCOPY) {
      return fail_errno(static_cast<int>(err.ee_errno), "MSG_ERRQUEUE message",
                        "socket error of origin " + std::to_string(err.ee_origin) +
                            " queued beside zero-copy notifications");
    }
    if (err.ee_errno != 0) {
      return fail_errno(static_cast<int>(err.ee_errno), "MSG_ERRQUEUE zero-copy notification");
    }
    return std::optional<ZerocopyRange>{ZerocopyRange{
        .lo = err.ee_info,
        .hi = err.ee_data,
        .copied = (err.ee_code & SO_EE_CODE_ZEROCOPY_COPIED) != 0,
    }};
  }
  return std::optional<ZerocopyRange>{};
}

}  // namespace zc::net
