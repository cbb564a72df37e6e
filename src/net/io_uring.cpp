#include "zcopy/net/io_uring.hpp"

#include <liburing.h>

#include <cerrno>
#include <string>

#include "zcopy/core/units.hpp"

namespace zc::net {

void IoUring::Exit::operator()(io_uring* ring) const noexcept {
  io_uring_queue_exit(ring);
  delete ring;
}

IoUring::IoUring(std::unique_ptr<io_uring> ring) noexcept : ring_(ring.release()) {}
IoUring::IoUring(IoUring&&) noexcept = default;
IoUring& IoUring::operator=(IoUring&&) noexcept = default;
IoUring::~IoUring() = default;

Result<IoUring> IoUring::create(unsigned entries, unsigned flags, bool fallback_without_flags) {
  auto ring = std::make_unique<io_uring>();
  io_uring_params params{};
  params.flags = flags;
  int rc = io_uring_queue_init_params(entries, ring.get(), &params);
  if (rc == -EINVAL && flags != 0 && fallback_without_flags) {
    params = {};
    rc = io_uring_queue_init_params(entries, ring.get(), &params);
  }
  if (rc < 0) return fail_errno(-rc, "io_uring_queue_init(" + std::to_string(entries) + ")");
  return IoUring(std::move(ring));
}

io_uring_sqe* IoUring::get_sqe() noexcept {
  io_uring_sqe* sqe = io_uring_get_sqe(ring_.get());
  if (sqe != nullptr) return sqe;
  io_uring_submit(ring_.get());
  return io_uring_get_sqe(ring_.get());
}

Result<unsigned> IoUring::submit() {
  for (;;) {
    const int rc = io_uring_submit(ring_.get());
    if (rc >= 0) return static_cast<unsigned>(rc);
    if (rc != -EINTR) return fail_errno(-rc, "io_uring_submit");
  }
}

Result<unsigned> IoUring::submit_and_wait(unsigned wait_for) {
  for (;;) {
    const int rc = io_uring_submit_and_wait(ring_.get(), wait_for);
    if (rc >= 0) return static_cast<unsigned>(rc);
    // Interrupted, the entries are in: a second call only waits.
    if (rc != -EINTR) return fail_errno(-rc, "io_uring_submit_and_wait");
  }
}

Result<io_uring_cqe*> IoUring::wait_cqe() {
  for (;;) {
    io_uring_cqe* cqe = nullptr;
    const int rc = io_uring_wait_cqe(ring_.get(), &cqe);
    if (rc == 0) return cqe;
    if (rc != -EINTR) return fail_errno(-rc, "io_uring_wait_cqe");
  }
}

io_uring_cqe* IoUring::peek_cqe() noexcept {
  io_uring_cqe* cqe = nullptr;
  return io_uring_peek_cqe(ring_.get(), &cqe) == 0 ? cqe : nullptr;
}

void IoUring::seen(io_uring_cqe* cqe) noexcept {
  io_uring_cqe_seen(ring_.get(), cqe);
}

void IoUring::get_events() noexcept {
  io_uring_get_events(ring_.get());
}

Result<void> IoUring::register_buffers(std::span<const iovec> buffers) {
  const int rc =
      io_uring_register_buffers(ring_.get(), buffers.data(), static_cast<unsigned>(buffers.size()));
  if (rc < 0) {
    std::uint64_t bytes = 0;
    for (const iovec& b : buffers) bytes += b.iov_len;
    return fail_errno(-rc, "io_uring_register_buffers(" + format_bytes(bytes) + ")",
                      rc == -ENOMEM ? "raise RLIMIT_MEMLOCK or pin less" : "");
  }
  return {};
}

Result<void> IoUring::unregister_buffers() {
  if (const int rc = io_uring_unregister_buffers(ring_.get()); rc < 0) {
    return fail_errno(-rc, "io_uring_unregister_buffers");
  }
  return {};
}

}  // namespace zc::net
