// src/fs/device_hooks.hpp: our hand on the /dev/fuse traffic, where passthrough is negotiated.
//
// libfuse 3.14 has no passthrough API (3.17 added one), and its INIT handling drops the flags2
// bits it does not know. Of the hooks it offers, fuse_session_custom_io() is the narrowest that
// reaches both ends of the exchange: libfuse hands every request it reads and every reply it
// writes to our read/writev functions. There we
//   - read the kernel's INIT request and note whether it offers FUSE_PASSTHROUGH in flags2;
//   - patch libfuse's INIT reply (matched by its unique id) with FUSE_INIT_EXT, FUSE_PASSTHROUGH
//     and max_stack_depth when the mount wants passthrough, FUSE_OVER_IO_URING when it wants
//     the io_uring transport and the kernel offered it, and FUSE_HANDLE_KILLPRIV_V2 (which
//     libfuse 3.14 cannot ask for) whenever the kernel offers it;
//   - patch an OPEN or CREATE reply with FOPEN_PASSTHROUGH and the backing id. The id travels in
//     a thread-local set just before fuse_reply_open/create, because libfuse writes a reply on
//     the thread that calls fuse_reply_*.
// Everything else libfuse still does (request parsing, splice, the thread pool). The
// alternative, parsing /dev/fuse requests ourselves around fuse_session_process_buf, would
// have to rebuild the INIT reply libfuse sends from inside process_buf anyway.
//
// A thread that serves a ring entry (uring_queues.hpp) hands libfuse the request itself and
// sets a RingReply first: the reply, patched as any other, then lands in the entry's buffers
// instead of /dev/fuse.
//
// The read hook also polls a wake-up eventfd, so stop() can end workers blocked on a mount
// that a still-open file keeps alive.
//
// Synchronization: the hooks run on every worker thread; the members are atomics or guarded
// by init_mutex_.
#pragma once

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <sys/uio.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "zcopy/core/error.hpp"
#include "zcopy/core/fd.hpp"

namespace zc::fs {

// Where replies written on this thread go while it serves a ring entry: the fuse_out_header
// into `header` (16 bytes), the out arguments into `payload`.
struct RingReply {
  unsigned char* header = nullptr;
  std::byte* payload = nullptr;
  std::size_t capacity = 0;
  std::size_t payload_size = 0;  // set by the reply
  bool written = false;

  // Takes a whole reply (as writev would); -1 with errno EOVERFLOW when it does not fit.
  ssize_t take(const struct iovec* iov, int count) noexcept;
};

class DeviceHooks {
 public:
  DeviceHooks() = default;

  // The io functions for fuse_session_custom_io(). `userdata` (the session's) must be the
  // Mirror that owns this object.
  static const fuse_custom_io& io();

  Result<void> open_wake_fd();
  // Makes every worker blocked in the read hook return EINTR from now on.
  void wake_all();

  // Called from the init callback: patch the INIT reply to ask for passthrough.
  void grant_passthrough(std::uint32_t max_stack_depth);
  bool kernel_offers_passthrough() const noexcept {
    return kernel_offers_.load(std::memory_order_acquire);
  }
  // Set before the session starts: the INIT reply asks for FUSE_OVER_IO_URING when offered.
  void want_uring() noexcept { want_uring_.store(true, std::memory_order_release); }
  bool kernel_offers_uring() const noexcept {
    return kernel_offers_uring_.load(std::memory_order_acquire);
  }
  // Whether the INIT reply asked for io_uring, and the payload buffer each ring entry needs for
  // the max_write and max_pages it announced (valid once init_answered()).
  bool uring_granted() const noexcept { return uring_granted_.load(std::memory_order_acquire); }
  std::size_t uring_payload_size() const noexcept {
    return uring_payload_size_.load(std::memory_order_acquire);
  }
  // Replies written by this thread go to `reply` until called with nullptr.
  static void capture_replies(RingReply* reply) noexcept;
  bool init_answered() const;
  bool wait_for_init(std::chrono::milliseconds timeout);

  // The next OPEN/CREATE reply written by this thread carries FOPEN_PASSTHROUGH and `id`.
  static void expect_open_reply(std::int32_t backing_id) noexcept;

  // The hooks themselves (public for the C callbacks in the .cpp).
  ssize_t on_read(int fd, void* buf, size_t len);
  ssize_t on_writev(int fd, struct iovec* iov, int count);
  int wake_fd() const noexcept { return wake_.get(); }
  // Waits until `device_fd` has a request (true), or returns false with errno EINTR once stop()
  // began or with the errno of a failed wait. Wakes one idle worker per request, not all.
  bool wait_for_request(int device_fd);
  // The SYNC POINT below, for requests and replies that are spliced instead.
  void request_arrived() noexcept {
    (void)replies_.load(std::memory_order_acquire);
    requests_.fetch_add(1, std::memory_order_relaxed);
  }
  // Requests read from /dev/fuse so far (a statistic).
  std::uint64_t requests() const noexcept { return requests_.load(std::memory_order_relaxed); }
  void reply_leaving() noexcept { replies_.fetch_add(1, std::memory_order_release); }

 private:
  Fd wake_;  // eventfd; readable once stop() begins
  // Written by the INIT request's reader; read by the INIT reply's writer (the same request,
  // handled after the read), so release/acquire orders them even across threads.
  std::atomic<std::uint64_t> init_unique_{0};
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<bool> kernel_offers_{false};
  std::atomic<bool> kernel_offers_uring_{false};
  std::atomic<bool> want_uring_{false};
  std::atomic<bool> kernel_offers_killpriv_v2_{false};
  std::atomic<bool> uring_granted_{false};
  std::atomic<std::size_t> uring_payload_size_{0};
  std::atomic<bool> init_read_{false};
  std::atomic<bool> grant_{false};
  std::atomic<std::uint32_t> stack_depth_{1};
  // SYNC POINT: the kernel orders a reply before the requests it leads to (a FLUSH reply before
  // the RELEASE of that file, an OPEN reply before its READs), but the order travels through
  // /dev/fuse, where neither the compiler nor ThreadSanitizer can see it. Each reply releases
  // this counter and each request acquires it, so the handler of a later request sees what the
  // earlier handler wrote, on any thread.
  std::atomic<std::uint64_t> replies_{0};
  mutable std::mutex init_mutex_;
  std::condition_variable init_cv_;
  bool init_answered_ = false;  // protected by init_mutex_
};

// FUSE_DEV_IOC_BACKING_OPEN: registers `fd` as a backing file; returns its id.
Result<std::int32_t> backing_open(int device_fd, int fd);
// FUSE_DEV_IOC_BACKING_CLOSE.
Result<void> backing_close(int device_fd, std::int32_t backing_id);

}  // namespace zc::fs
