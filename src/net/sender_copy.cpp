// The zero-copy sender's copying backend: a plain sendmsg, for small sends, for a method that
// chose copying, and for a buffer that ENOBUFS kept from going zero-copy.
#include <poll.h>

#include <string>

#include "net/sender_state.hpp"
#include "zcopy/core/syscall.hpp"
#include "zcopy/core/units.hpp"

namespace zc::net {

IovCursor::IovCursor(std::span<const iovec> fragments) {
  if (fragments.size() > kInline) {
    heap_.resize(fragments.size());
    data_ = heap_.data();
  }
  for (const iovec& f : fragments) {
    if (f.iov_len != 0) data_[count_++] = f;
  }
}

void IovCursor::advance(std::size_t bytes) noexcept {
  while (bytes > 0 && next_ < count_) {
    iovec& f = data_[next_];
    const std::size_t step = std::min(bytes, f.iov_len);
    f.iov_base = static_cast<char*>(f.iov_base) + step;
    f.iov_len -= step;
    bytes -= step;
    if (f.iov_len == 0) ++next_;
  }
}

Result<void> ZeroCopySender::State::send_copy(IovCursor& cursor, Clock::time_point until) {
  while (!cursor.empty()) {
    msghdr msg = message_of(cursor.remaining());
    auto n = try_sys_call({"sendmsg", fd},
                          [&] { return ::sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL); });
    if (!n) return std::unexpected(n.error());
    if (!*n) {
      if (auto ok = wait_writable(until); !ok) return ok;
      continue;
    }
    stats.bytes_copy_sent += static_cast<std::uint64_t>(**n);
    cursor.advance(static_cast<std::size_t>(**n));
  }
  return {};
}

Result<void> ZeroCopySender::State::wait_writable(Clock::time_point until) {
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now());
    if (left.count() <= 0) {
      return fail(Errc::timeout, "send(fd " + std::to_string(fd) + ")",
                  "socket not writable within " + std::to_string(options.timeout.count()) +
                      " ms (" + format_bytes(tracker.bytes_outstanding()) +
                      " outstanding; does the peer still read?)");
    }
    ++stats.waits;
    pollfd p{.fd = fd, .events = POLLOUT, .revents = 0};
    auto rc = sys_call({"poll", fd}, [&] { return ::poll(&p, 1, static_cast<int>(left.count())); });
    if (!rc) return std::unexpected(rc.error());
    if ((p.revents & POLLERR) != 0) {
      auto drained =
          in_flight == SendMethod::uring_zc ? Result<std::size_t>(0) : drain_error_queue();
      if (!drained) return std::unexpected(drained.error());
      if (*drained == 0) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) return fail_errno(err, "send(fd " + std::to_string(fd) + ")");
      }
    }
    if ((p.revents & POLLOUT) != 0) return {};
    if ((p.revents & (POLLHUP | POLLNVAL)) != 0) {
      return fail(Errc::closed, "send(fd " + std::to_string(fd) + ")", "the connection is closed");
    }
  }
}

}  // namespace zc::net
