#include "body_sender.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace zc::http {
namespace {

// Bytes one loop sends to one connection before it turns to the others.
constexpr std::uint64_t kTurnBudget = 8 * 1024 * 1024;
constexpr std::size_t kCopyBuffer = 256 * 1024;
// Bodies from this size are sent corked; below it the two setsockopt calls cost more than the
// segments they save (a 4 KiB file leaves in one segment anyway).
constexpr std::uint64_t kCorkFrom = 256 * 1024;

bool would_block(int e) noexcept {
  return e == EAGAIN || e == EWOULDBLOCK;
}

}  // namespace

SendOutcome BodySender::fail(const char* call, int error) {
  failure_ = std::string(call) + ": " + std::strerror(error);
  return SendOutcome::failed;
}

Result<std::unique_ptr<BodySender>> BodySender::create(SendMethod method, std::size_t chunk_bytes,
                                                       LedgerCounters& ledger) {
  std::unique_ptr<BodySender> sender(new BodySender(method, chunk_bytes, ledger));
  if (method == SendMethod::uring) {
    sender->ring_.emplace();
    const int rc = io_uring_queue_init(8, &*sender->ring_, 0);
    if (rc < 0) {
      sender->ring_.reset();
      return fail_errno(-rc, "io_uring_queue_init(8)");
    }
  }
  return sender;
}

BodySender::~BodySender() {
  if (ring_) io_uring_queue_exit(&*ring_);
}

void BodySender::delivered(std::uint64_t n, bool zero_copy) {
  ledger_.bytes.fetch_add(n, std::memory_order_relaxed);
  if (zero_copy) ledger_.zero_copy.fetch_add(n, std::memory_order_relaxed);
  // Nothing for the receiver, even on loopback: its copy out of the socket, if it makes one, is
  // in its own ledger (see transfer_ledger.hpp).
}

SendOutcome BodySender::send(Connection& c) {
  // A large body goes out corked, as nginx's tcp_nopush does: the kernel then sends only full
  // segments until we uncork at the end. Measured with curl on loopback, a 2 GiB file by
  // sendfile went at 0.78-0.82x nginx's rate uncorked and 0.97-1.05x corked.
  if (!c.corked && c.body_remaining() >= kCorkFrom) set_cork(c, true);
  SendOutcome outcome = send_head(c);
  if (outcome == SendOutcome::done && c.body_remaining() > 0) outcome = send_body(c);
  if (outcome == SendOutcome::done && c.corked) set_cork(c, false);
  return outcome;
}

void BodySender::set_cork(Connection& c, bool on) noexcept {
  const int value = on ? 1 : 0;
  (void)::setsockopt(c.socket.get(), IPPROTO_TCP, TCP_CORK, &value, sizeof value);
  c.corked = on;
}

SendOutcome BodySender::send_body(Connection& c) {
  switch (method_) {
    case SendMethod::splice:
      return by_splice(c);
    case SendMethod::uring:
      return by_uring(c);
    case SendMethod::copy:
      return by_copy(c);
    default:
      return by_sendfile(c);
  }
}

SendOutcome BodySender::send_head(Connection& c) {
  Response& r = c.response;
  while (r.head_sent < r.head.size()) {
    // MSG_MORE holds the head back until the body's first pages join it in one segment.
    const int more = c.body_remaining() > 0 ? MSG_MORE : 0;
    const ssize_t n = ::send(c.socket.get(), r.head.data() + r.head_sent,
                             r.head.size() - r.head_sent, MSG_NOSIGNAL | more);
    if (n < 0) {
      if (errno == EINTR) continue;
      return would_block(errno) ? SendOutcome::blocked : fail("send", errno);
    }
    r.head_sent += static_cast<std::size_t>(n);
  }
  return SendOutcome::done;
}

SendOutcome BodySender::by_sendfile(Connection& c) {
  Response& r = c.response;
  std::uint64_t budget = kTurnBudget;
  while (r.offset < r.end) {
    if (budget == 0) return SendOutcome::blocked;
    const std::size_t len =
        static_cast<std::size_t>(std::min<std::uint64_t>(chunk_, r.end - r.offset));
    auto offset = static_cast<off_t>(r.offset);
    const ssize_t n = ::sendfile(c.socket.get(), r.file.get(), &offset, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return would_block(errno) ? SendOutcome::blocked : fail("sendfile", errno);
    }
    if (n == 0) return SendOutcome::truncated;
    const auto sent = static_cast<std::uint64_t>(n);
    r.offset += sent;
    r.file_sent += sent;
    budget -= std::min(budget, sent);
    delivered(sent, true);
  }
  return SendOutcome::done;
}

bool BodySender::ensure_pipe(Connection& c) {
  if (c.pipe_read) return true;
  auto pipe = make_pipe(O_NONBLOCK);
  if (!pipe) return false;
  // A bigger pipe means fewer splices per MiB; the default of 64 KiB is kept if this fails.
  ::fcntl(pipe->write_end.get(), F_SETPIPE_SZ,
          static_cast<int>(std::min<std::size_t>(chunk_, 1 << 20)));
  const int size = ::fcntl(pipe->write_end.get(), F_GETPIPE_SZ);
  c.pipe_capacity = size > 0 ? static_cast<std::size_t>(size) : 65536;
  c.pipe_read = std::move(pipe->read_end);
  c.pipe_write = std::move(pipe->write_end);
  return true;
}

SendOutcome BodySender::by_splice(Connection& c) {
  if (!ensure_pipe(c)) return SendOutcome::failed;
  Response& r = c.response;
  std::uint64_t budget = kTurnBudget;
  while (c.body_remaining() > 0) {
    if (budget == 0) return SendOutcome::blocked;
    if (c.pipe_bytes == 0) {
      const std::size_t len =
          static_cast<std::size_t>(std::min<std::uint64_t>(c.pipe_capacity, r.end - r.offset));
      auto offset = static_cast<loff_t>(r.offset);
      const ssize_t n = ::splice(r.file.get(), &offset, c.pipe_write.get(), nullptr, len,
                                 SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n < 0) {
        if (errno == EINTR) continue;
        return fail("splice(file, pipe)", errno);
      }
      if (n == 0) return SendOutcome::truncated;
      r.offset += static_cast<std::uint64_t>(n);
      c.pipe_bytes = static_cast<std::size_t>(n);
    }
    const unsigned more = r.offset < r.end ? SPLICE_F_MORE : 0;
    const ssize_t n = ::splice(c.pipe_read.get(), nullptr, c.socket.get(), nullptr, c.pipe_bytes,
                               SPLICE_F_MOVE | SPLICE_F_NONBLOCK | more);
    if (n < 0) {
      if (errno == EINTR) continue;
      return would_block(errno) ? SendOutcome::blocked : fail("splice(pipe, socket)", errno);
    }
    const auto sent = static_cast<std::uint64_t>(n);
    c.pipe_bytes -= static_cast<std::size_t>(n);
    r.file_sent += sent;
    budget -= std::min(budget, sent);
    delivered(sent, true);
  }
  return SendOutcome::done;
}

// The splice method's two steps as one linked io_uring submission: file -> pipe, then pipe ->
// socket. A short first step breaks the link (the second completes with -ECANCELED) and the
// next round sends what the pipe holds.
SendOutcome BodySender::by_uring(Connection& c) {
  if (!ensure_pipe(c)) return SendOutcome::failed;
  Response& r = c.response;
  io_uring* ring = &*ring_;
  std::uint64_t budget = kTurnBudget;
  while (c.body_remaining() > 0) {
    if (budget == 0) return SendOutcome::blocked;
    unsigned submitted = 0;
    std::size_t fill = 0;
    if (c.pipe_bytes == 0) {
      fill = static_cast<std::size_t>(std::min<std::uint64_t>(c.pipe_capacity, r.end - r.offset));
      io_uring_sqe* sqe = io_uring_get_sqe(ring);
      io_uring_prep_splice(sqe, r.file.get(), static_cast<std::int64_t>(r.offset),
                           c.pipe_write.get(), -1, static_cast<unsigned>(fill), SPLICE_F_NONBLOCK);
      sqe->flags |= IOSQE_IO_LINK;
      io_uring_sqe_set_data64(sqe, 1);
      ++submitted;
    }
    const std::size_t drain = c.pipe_bytes > 0 ? c.pipe_bytes : fill;
    const unsigned more = r.offset + fill < r.end ? SPLICE_F_MORE : 0;
    io_uring_sqe* sqe = io_uring_get_sqe(ring);
    io_uring_prep_splice(sqe, c.pipe_read.get(), -1, c.socket.get(), -1,
                         static_cast<unsigned>(drain), SPLICE_F_NONBLOCK | more);
    io_uring_sqe_set_data64(sqe, 2);
    ++submitted;
    int rc = io_uring_submit_and_wait(ring, submitted);
    if (rc < 0 && rc != -EINTR) return fail("io_uring_submit_and_wait", -rc);
    int filled = 0;
    int drained = 0;
    for (unsigned seen = 0; seen < submitted;) {
      io_uring_cqe* cqe = nullptr;
      rc = io_uring_wait_cqe(ring, &cqe);
      if (rc == -EINTR) continue;
      if (rc < 0) return fail("io_uring_wait_cqe", -rc);
      (io_uring_cqe_get_data64(cqe) == 1 ? filled : drained) = cqe->res;
      io_uring_cqe_seen(ring, cqe);
      ++seen;
    }
    if (submitted == 2) {
      if (filled < 0) return fail("io_uring splice(file, pipe)", -filled);
      if (filled == 0) return SendOutcome::truncated;
      r.offset += static_cast<std::uint64_t>(filled);
      c.pipe_bytes += static_cast<std::size_t>(filled);
    }
    if (drained == -ECANCELED) continue;
    if (drained < 0) {
      return would_block(-drained) ? SendOutcome::blocked
                                   : fail("io_uring splice(pipe, socket)", -drained);
    }
    const auto sent = static_cast<std::uint64_t>(drained);
    c.pipe_bytes -= static_cast<std::size_t>(drained);
    r.file_sent += sent;
    budget -= std::min(budget, sent);
    delivered(sent, true);
  }
  return SendOutcome::done;
}

SendOutcome BodySender::by_copy(Connection& c) {
  Response& r = c.response;
  if (!c.copy_buffer) c.copy_buffer = std::make_unique<char[]>(kCopyBuffer);
  std::uint64_t budget = kTurnBudget;
  while (c.body_remaining() > 0) {
    if (budget == 0) return SendOutcome::blocked;
    if (c.copy_begin == c.copy_end) {
      const std::size_t len =
          static_cast<std::size_t>(std::min<std::uint64_t>(kCopyBuffer, r.end - r.offset));
      const ssize_t n =
          ::pread(r.file.get(), c.copy_buffer.get(), len, static_cast<off_t>(r.offset));
      if (n < 0) {
        if (errno == EINTR) continue;
        return fail("pread", errno);
      }
      if (n == 0) return SendOutcome::truncated;
      r.offset += static_cast<std::uint64_t>(n);
      c.copy_begin = 0;
      c.copy_end = static_cast<std::size_t>(n);
      // read(2) copies page cache -> our buffer.
      ledger_.copied_kernel.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
    }
    const int more = r.offset < r.end ? MSG_MORE : 0;
    const ssize_t n = ::send(c.socket.get(), c.copy_buffer.get() + c.copy_begin,
                             c.copy_end - c.copy_begin, MSG_NOSIGNAL | more);
    if (n < 0) {
      if (errno == EINTR) continue;
      return would_block(errno) ? SendOutcome::blocked : fail("send", errno);
    }
    const auto sent = static_cast<std::uint64_t>(n);
    c.copy_begin += static_cast<std::size_t>(n);
    r.file_sent += sent;
    budget -= std::min(budget, sent);
    // send(2) copies our buffer -> socket buffers.
    ledger_.copied_kernel.fetch_add(sent, std::memory_order_relaxed);
    delivered(sent, false);
  }
  return SendOutcome::done;
}

}  // namespace zc::http
