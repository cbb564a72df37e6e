#include "zcopy/net/wake_mark.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>

#include "zcopy/core/syscall.hpp"

namespace zc::net {

WakeMark::~WakeMark() {
  if (raised()) set(1);
}

void WakeMark::before_read(std::uint64_t done) {
  if (lowered_for_good_) return;
  const std::uint64_t left = length_ ? *length_ - std::min(done, *length_) : wake_bytes_;
  const std::uint64_t wanted = std::clamp<std::uint64_t>(left, 1, wake_bytes_);
  if (!raised()) {
    if (wanted > kWorthBytes) set(wanted);
  } else if (wanted < mark_) {
    set(wanted);
  }
}

void WakeMark::lower_for_good() {
  lowered_for_good_ = true;
  if (raised()) set(1);
}

void WakeMark::set(std::uint64_t bytes) {
  const int value = static_cast<int>(bytes);
  (void)::setsockopt(socket_, SOL_SOCKET, SO_RCVLOWAT, &value, sizeof value);
  mark_ = bytes;
}

Result<void> WakeMark::wait() {
  if (!slice_ms_) {
    timeval timeout{};
    socklen_t size = sizeof timeout;
    const bool known = ::getsockopt(socket_, SOL_SOCKET, SO_RCVTIMEO, &timeout, &size) == 0;
    const long ms = timeout.tv_sec * 1000 + (timeout.tv_usec + 999) / 1000;
    slice_ms_ = known && ms > 0 ? static_cast<int>(std::min<long>(ms, 1 << 30)) : -1;
  }
  pollfd in{.fd = socket_, .events = POLLIN, .revents = 0};
  auto ready = sys_call({"poll", socket_}, [&] { return ::poll(&in, 1, *slice_ms_); });
  if (!ready) return std::unexpected(ready.error());
  return {};
}

}  // namespace zc::net
