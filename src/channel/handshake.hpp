// The two messages of a channel handshake, private to the channel module. A subscriber sends
// kHello (its credentials ride along, stamped by the kernel); the publisher answers kWelcome with
// four descriptors in kWelcomeFds order, or a line starting with kRefusedPrefix and no descriptor.
#pragma once

#include <cstddef>
#include <string_view>

namespace zc::detail {

inline constexpr std::string_view kHello = "zcopy-channel-hello/1";
// The hello of a subscriber registered for membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED): it looks
// for a waiting publisher with a plain load, and the publisher fences it before sleeping.
inline constexpr std::string_view kHelloFenced = "zcopy-channel-hello/1 fences";
inline constexpr std::string_view kWelcome = "zcopy-channel-welcome/1";
inline constexpr std::string_view kRefusedPrefix = "refused: ";

// Order of the descriptors a welcome carries.
enum WelcomeFd : std::size_t {
  kPoolFd = 0,            // payload pool, read-only (sealed F_SEAL_FUTURE_WRITE)
  kControlFd = 1,         // this subscriber's control region, read-write
  kSubscriberWakeFd = 2,  // eventfd the publisher signals to wake this subscriber
  kPublisherWakeFd = 3,   // eventfd this subscriber signals to wake the publisher
  kWelcomeFdCount = 4,
};

}  // namespace zc::detail
