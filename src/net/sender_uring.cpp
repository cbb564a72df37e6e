// The io_uring backend of ZeroCopySender: SEND_ZC for one buffer, SENDMSG_ZC for a gathered
// message, each answered by a result CQE (flagged F_MORE) and later a notification CQE (F_NOTIF)
// when the kernel lets go of the pages. Requests go one at a time, each waited for until its
// result, which keeps a stream's bytes in order; the notifications are what run in the
// background.
#include <liburing.h>
#include <sys/socket.h>

#include <cerrno>
#include <climits>
#include <string>

#include "net/sender_state.hpp"
#include "zcopy/core/units.hpp"

// liburing 2.3 predates these (kernel 6.2 added them).
#ifndef IORING_SEND_ZC_REPORT_USAGE
#define IORING_SEND_ZC_REPORT_USAGE (1U << 3)
#endif
#ifndef IORING_NOTIF_USAGE_ZC_COPIED
#define IORING_NOTIF_USAGE_ZC_COPIED (1U << 31)
#endif

namespace zc::net {
namespace {

// user_data: a call's 64-bit number, or this for the cancel request's own CQE.
constexpr std::uint64_t kCancelTag = ~std::uint64_t{0};

}  // namespace

Result<void> ZeroCopySender::State::setup_ring() {
  // One thread submits and reaps: let the kernel run completion work only when we enter it.
  auto created = IoUring::create(options.uring_entries,
                                 IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, true);
  if (!created) return std::unexpected(created.error());
  ring = std::move(*created);
  return {};
}

Result<bool> ZeroCopySender::State::wait_ring(Clock::time_point until) {
  const auto left = std::chrono::ceil<std::chrono::microseconds>(until - Clock::now());
  if (left.count() <= 0) return false;
  __kernel_timespec ts{.tv_sec = left.count() / 1'000'000,
                       .tv_nsec = (left.count() % 1'000'000) * 1000};
  io_uring_cqe* cqe = nullptr;
  ++stats.waits;
  const int rc = io_uring_wait_cqe_timeout(ring->get(), &cqe, &ts);
  if (rc != 0 && rc != -ETIME && rc != -EINTR) return fail_errno(-rc, "io_uring_wait_cqe");
  auto drained = drain_ring();
  if (!drained) return std::unexpected(drained.error());
  return rc == 0;
}

Result<std::size_t> ZeroCopySender::State::drain_ring(bool enter) {
  // With DEFER_TASKRUN, completions are posted only when we enter the kernel: do so cheaply.
  if (enter) ring->get_events();
  std::size_t seen = 0;
  while (io_uring_cqe* cqe = ring->peek_cqe()) {
    const std::uint64_t tag = cqe->user_data;
    const std::uint32_t flags = cqe->flags;
    const int res = cqe->res;
    ring->seen(cqe);
    ++seen;
    if (tag == kCancelTag) continue;
    const auto call = static_cast<std::uint32_t>(tag);
    if ((flags & IORING_CQE_F_NOTIF) != 0) {
      ++stats.notifications;
      const bool copied = (static_cast<std::uint32_t>(res) & IORING_NOTIF_USAGE_ZC_COPIED) != 0;
      if (auto done = tracker.complete(call, call, copied); !done)
        return std::unexpected(done.error());
      continue;
    }
    if (awaited && call == *awaited) {
      awaited_res = res;
      awaited_done = true;
    }
    // Without F_MORE no notification follows (a failed request), so the call completes now.
    if ((flags & IORING_CQE_F_MORE) == 0) {
      if (auto done = tracker.complete(call, call, false); !done)
        return std::unexpected(done.error());
    }
  }
  if (seen > 0) apply_copied_policy();
  return seen;
}

Result<void> ZeroCopySender::State::send_uring(IovCursor& cursor, std::uint64_t total) {
  const auto until = deadline();
  int enobufs_left = options.enobufs_retries;
  msghdr msg{};
  while (!cursor.empty()) {
    if (active == SendMethod::copy) return send_copy(cursor, until);  // switched meanwhile
    std::span<iovec> left = cursor.remaining();
    io_uring_sqe* sqe = ring->get_sqe();
    if (sqe == nullptr) return fail(Errc::exhausted, "io_uring_get_sqe", "submission queue full");
    const int flags = MSG_NOSIGNAL | (stream ? MSG_WAITALL : 0);
    if (left.size() == 1) {
      const auto* base = static_cast<const std::byte*>(left[0].iov_base);
      const std::size_t len = std::min<std::size_t>(left[0].iov_len, 1u << 30);
      const bool fixed = !registered.empty() && base >= registered.data() &&
                         base + len <= registered.data() + registered.size();
      if (fixed) {
        io_uring_prep_send_zc_fixed(sqe, fd, base, len, flags, IORING_SEND_ZC_REPORT_USAGE, 0);
        ++stats.fixed_buffer_sends;
      } else {
        io_uring_prep_send_zc(sqe, fd, base, len, flags, IORING_SEND_ZC_REPORT_USAGE);
      }
    } else {
      msg = {};
      msg.msg_iov = left.data();
      msg.msg_iovlen = std::min<std::size_t>(left.size(), IOV_MAX);
      io_uring_prep_sendmsg_zc(sqe, fd, &msg, static_cast<unsigned>(flags));
      sqe->ioprio |= IORING_SEND_ZC_REPORT_USAGE;
    }
    // The call is counted before its result is known; a failed request completes it below.
    const std::uint32_t call = tracker.add_call();
    ++stats.zerocopy_calls;
    io_uring_sqe_set_data64(sqe, call);
    // With the queue reaped, submitting and waiting for one CQE is one system call that also
    // posts the notifications the kernel deferred: at 16 KiB a separate submit, wait and
    // get_events made three per send.
    if (auto drained = drain_ring(false); !drained) return std::unexpected(drained.error());

    // Wait for this request's result; notifications of earlier ones are taken on the way. Once
    // the request is in, the same call only waits.
    awaited = call;
    awaited_done = false;
    while (!awaited_done) {
      const auto wait_left = std::chrono::ceil<std::chrono::microseconds>(until - Clock::now());
      io_uring_cqe* cqe = nullptr;
      int rc = -ETIME;
      if (wait_left.count() > 0) {
        __kernel_timespec ts{.tv_sec = wait_left.count() / 1'000'000,
                             .tv_nsec = (wait_left.count() % 1'000'000) * 1000};
        rc = io_uring_submit_and_wait_timeout(ring->get(), &cqe, 1, &ts, nullptr);
      }
      if (rc == -ETIME) {
        // The peer stopped reading: cancel; its CQEs are reaped by later drains.
        awaited.reset();
        io_uring_sqe* cancel = ring->get_sqe();
        if (cancel != nullptr) {
          io_uring_prep_cancel64(cancel, call, 0);
          io_uring_sqe_set_data64(cancel, kCancelTag);
          (void)ring->submit();  // best effort: the timeout is the answer either way
        }
        return fail(Errc::timeout, "io_uring SEND_ZC(fd " + std::to_string(fd) + ")",
                    "no progress within " + std::to_string(options.timeout.count()) + " ms (" +
                        format_bytes(tracker.bytes_outstanding()) +
                        " outstanding; does the peer still read?)");
      }
      if (rc == -EINTR) continue;
      if (rc < 0) return fail_errno(-rc, "io_uring_submit_and_wait(SEND_ZC)");
      if (auto drained = drain_ring(false); !drained) return std::unexpected(drained.error());
    }
    awaited.reset();
    const int res = awaited_res;
    if (res >= 0) {
      cursor.advance(static_cast<std::size_t>(res));
      continue;
    }
    if (res == -EINTR || res == -EAGAIN) continue;
    if (res == -ENOBUFS) {
      ++stats.enobufs;
      if (enobufs_left-- > 0) {
        if (auto drained = drain_ring(); !drained) return std::unexpected(drained.error());
        continue;
      }
      ++stats.enobufs_fallbacks;
      return send_copy(cursor, until);
    }
    return fail_errno(-res, "io_uring SEND_ZC(fd " + std::to_string(fd) + ")",
                      format_bytes(total) + " message");
  }
  return {};
}

}  // namespace zc::net
