// The zero-copy sender's MSG_ZEROCOPY backend: sendmsg(MSG_ZEROCOPY), with completions read
// from the socket's error queue (zerocopy_notification.hpp).
#include <poll.h>

#include <array>
#include <cerrno>
#include <string>

#include "net/sender_state.hpp"
#include "zcopy/core/syscall.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/net/zerocopy_notification.hpp"

namespace zc::net {

Result<std::size_t> ZeroCopySender::State::drain_error_queue() {
  sent_since_error_queue_read = 0;
  std::size_t read = 0;
  for (;;) {
    std::array<char, 128> control{};
    msghdr msg{};
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    auto rc = try_sys_call({"recvmsg(MSG_ERRQUEUE)", fd},
                           [&] { return ::recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT); });
    if (!rc) return std::unexpected(rc.error());
    if (!*rc) break;  // the queue is empty
    auto range = parse_zerocopy_notification(msg);
    if (!range) return std::unexpected(std::move(range.error()));
    if (!*range) continue;
    ++stats.notifications;
    if (auto done = tracker.complete((*range)->lo, (*range)->hi, (*range)->copied); !done) {
      return std::unexpected(std::move(done.error()));
    }
    ++read;
  }
  if (read > 0) apply_copied_policy();
  return read;
}

Result<bool> ZeroCopySender::State::wait_error_queue(Clock::time_point until) {
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now());
    if (left.count() <= 0) break;
    ++stats.waits;
    // POLLERR alone: the error queue has a notification (or the socket an error).
    pollfd p{.fd = fd, .events = 0, .revents = 0};
    auto rc = sys_call({"poll", fd}, [&] { return ::poll(&p, 1, static_cast<int>(left.count())); });
    if (!rc) return std::unexpected(rc.error());
    if (*rc == 0) break;
    auto drained = drain_error_queue();
    if (!drained) return std::unexpected(drained.error());
    if (*drained > 0) return true;
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return fail_errno(err, "zero-copy send(fd " + std::to_string(fd) + ")");
    if ((p.revents & (POLLHUP | POLLNVAL)) != 0) {
      return fail(Errc::closed, "zero-copy send(fd " + std::to_string(fd) + ")",
                  "the connection closed with " + format_bytes(tracker.bytes_outstanding()) +
                      " unacknowledged");
    }
  }
  return false;
}

Result<void> ZeroCopySender::State::send_msg_zerocopy(IovCursor& cursor, std::uint64_t total) {
  const auto until = deadline();
  int enobufs_left = options.enobufs_retries;
  while (!cursor.empty()) {
    if (active == SendMethod::copy) return send_copy(cursor, until);  // switched meanwhile
    msghdr msg = message_of(cursor.remaining());
    auto n = try_sys_call({"sendmsg(MSG_ZEROCOPY)", fd}, [&] {
      return ::sendmsg(fd, &msg, MSG_ZEROCOPY | MSG_DONTWAIT | MSG_NOSIGNAL);
    });
    if (n && *n) {
      tracker.add_call();
      ++kernel_zerocopy_calls;
      ++stats.zerocopy_calls;
      cursor.advance(static_cast<std::size_t>(**n));
      continue;
    }
    if (n) {  // the socket is full
      if (auto ok = wait_writable(until); !ok) return ok;
      continue;
    }
    const int err = n.error().sys_errno();
    if (err == ENOBUFS) {
      // Out of optmem (each call holds a notification skb) or of locked memory: completions
      // give both back, so drain, retry, and only then copy this buffer.
      ++stats.enobufs;
      if (enobufs_left-- > 0) {
        auto drained = drain_error_queue();
        if (!drained) return std::unexpected(drained.error());
        if (*drained == 0 && tracker.calls_outstanding() > 0) {
          // Give the notifications in flight a moment (bounded) to arrive.
          auto waited =
              wait_for_completion(std::min(until, Clock::now() + std::chrono::milliseconds(5)));
          if (!waited && waited.error().code() != Errc::timeout) return waited;
        }
        continue;
      }
      ++stats.enobufs_fallbacks;
      return send_copy(cursor, until);
    }
    return fail_errno(err, "sendmsg(MSG_ZEROCOPY, fd " + std::to_string(fd) + ")",
                      format_bytes(total) + " message");
  }
  return {};
}

}  // namespace zc::net
