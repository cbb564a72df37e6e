// zcopy/net/io_uring.hpp: the one owner of an io_uring instance.
//
// Wraps liburing's `io_uring`: set up by create() (queue_init), torn down by the destructor
// (queue_exit, which also drops registered buffers). Move-only. The helpers retry EINTR and turn
// the kernel's negative results into zc::Error naming the call; requests themselves are prepared
// with liburing's io_uring_prep_* on the entries get_sqe() hands out.
//
//   auto ring = zc::net::IoUring::create(8);
//   io_uring_sqe* sqe = ring->get_sqe();
//   io_uring_prep_splice(sqe, file, offset, pipe, -1, len, 0);
//   if (auto n = ring->submit_and_wait(1); !n) return std::unexpected(n.error());
//
// Not thread-safe: one thread submits and reaps. liburing stays out of this header (the types are
// only declared), so a user of zcopy::net compiles without liburing's headers.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <span>

#include "zcopy/core/error.hpp"

struct io_uring;
struct io_uring_sqe;
struct io_uring_cqe;
struct io_uring_params;

namespace zc::net {

class IoUring {
 public:
  // A ring of `entries` submission entries; `flags` are IORING_SETUP_* flags. With
  // `fallback_without_flags`, a kernel that refuses the flags (EINVAL) gets a ring without them.
  static Result<IoUring> create(unsigned entries, unsigned flags = 0,
                                bool fallback_without_flags = false);

  IoUring(IoUring&&) noexcept;
  IoUring& operator=(IoUring&&) noexcept;
  IoUring(const IoUring&) = delete;
  IoUring& operator=(const IoUring&) = delete;
  ~IoUring();

  // liburing's ring, for io_uring_prep_* and the rest of liburing.
  io_uring* get() noexcept { return ring_.get(); }

  // A free submission entry; when the queue is full, submits what is queued and tries once more
  // (nullptr if still none).
  io_uring_sqe* get_sqe() noexcept;
  // Submits what is queued; returns how many entries the kernel took.
  Result<unsigned> submit();
  // Submits and waits until `wait_for` completions are ready.
  Result<unsigned> submit_and_wait(unsigned wait_for);
  // Waits for the next completion; the caller marks it seen().
  Result<io_uring_cqe*> wait_cqe();
  // The next ready completion without waiting, or nullptr.
  io_uring_cqe* peek_cqe() noexcept;
  void seen(io_uring_cqe* cqe) noexcept;
  // Enters the kernel so that deferred completions (IORING_SETUP_DEFER_TASKRUN) are posted.
  void get_events() noexcept;

  Result<void> register_buffers(std::span<const iovec> buffers);
  Result<void> unregister_buffers();

 private:
  explicit IoUring(std::unique_ptr<io_uring> ring) noexcept;
  struct Exit {
    void operator()(io_uring* ring) const noexcept;
  };
  std::unique_ptr<io_uring, Exit> ring_;
};

}  // namespace zc::net
