#include "zcopy/net/file_to_socket.hpp"

#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "zcopy/core/syscall.hpp"

namespace zc::net {
namespace {

constexpr MethodLadder<FileSendMethod, 5> kFileSendMethods{
    "--method",
    FileSendMethod::automatic,
    {{
        {FileSendMethod::automatic, "auto"},
        {FileSendMethod::sendfile, "sendfile", Capability::sendfile, true},
        {FileSendMethod::splice, "splice", Capability::splice, true},
        {FileSendMethod::uring, "uring", Capability::io_uring_splice},
        {FileSendMethod::copy, "copy", std::nullopt, true},
    }}};

// Bytes one mover sends to one socket per turn before its loop turns to the others.
constexpr std::uint64_t kTurnBudget = 8 * 1024 * 1024;
constexpr std::size_t kCopyBuffer = 256 * 1024;
// Ranges from this size are sent corked; below it the two setsockopt calls cost more than the
// segments they save (a 4 KiB file leaves in one segment anyway).
constexpr std::uint64_t kCorkFrom = 256 * 1024;

// TCP_CORK on or off; a failure only costs the coalescing, so it is ignored.
void set_cork(int socket, SocketSendState& state, bool on) noexcept {
  const int value = on ? 1 : 0;
  (void)::setsockopt(socket, IPPROTO_TCP, TCP_CORK, &value, sizeof value);
  state.corked = on;
}

std::size_t bounded(std::uint64_t cap, std::uint64_t left) noexcept {
  return static_cast<std::size_t>(std::min(cap, left));
}

}  // namespace

std::string_view to_string(FileSendMethod method) noexcept {
  return kFileSendMethods.to_string(method);
}

std::optional<FileSendMethod> file_send_method_from_name(std::string_view text) noexcept {
  return kFileSendMethods.from_name(text);
}

Result<MethodChoice<FileSendMethod>> choose(FileSendMethod requested) {
  return kFileSendMethods.choose(requested);
}

void CopyCounters::read_into(TransferLedger& ledger) const noexcept {
  constexpr auto relaxed = std::memory_order_relaxed;
  ledger.bytes = bytes.load(relaxed);
  ledger.bytes_zero_copy = zero_copy.load(relaxed);
  ledger.bytes_copied_user = copied_user.load(relaxed);
  ledger.bytes_copied_kernel = copied_kernel.load(relaxed);
  ledger.bytes_ciphered = ciphered.load(relaxed);
}

Result<FileToSocket> FileToSocket::create(FileSendMethod method, std::size_t chunk_bytes,
                                          CopyCounters& counters) {
  FileToSocket mover(method, chunk_bytes, counters);
  if (method == FileSendMethod::uring) {
    auto ring = IoUring::create(8);
    if (!ring) return std::unexpected(ring.error());
    mover.ring_ = std::move(*ring);
  }
  return mover;
}

void FileToSocket::delivered(FileSend& t, std::uint64_t n, bool zero_copy,
                             std::uint64_t& budget) noexcept {
  t.file_sent += n;
  budget -= std::min(budget, n);
  counters_->bytes.fetch_add(n, std::memory_order_relaxed);
  if (zero_copy) counters_->zero_copy.fetch_add(n, std::memory_order_relaxed);
  // Nothing for the receiver, even on loopback: its copy out of the socket, if it makes one, is
  // in its own ledger (see transfer_ledger.hpp).
}

Result<SendTurn> FileToSocket::send(int socket, FileSend& transfer, SocketSendState& state) {
  // A large range goes out corked, as nginx's tcp_nopush does: the kernel then sends only full
  // segments until we uncork at the end; uncorked, sendfile fell well behind nginx's rate
  // (docs/PERFORMANCE.md).
  if (!state.corked && remaining(transfer, state) >= kCorkFrom) set_cork(socket, state, true);
  auto turn = send_head(socket, transfer, state);
  if (turn && *turn == SendTurn::done && remaining(transfer, state) > 0) {
    turn = send_body(socket, transfer, state);
  }
  if (turn && *turn == SendTurn::done && state.corked) set_cork(socket, state, false);
  return turn;
}

Result<SendTurn> FileToSocket::send_body(int socket, FileSend& transfer, SocketSendState& state) {
  switch (method_) {
    case FileSendMethod::splice:
      return by_splice(socket, transfer, state);
    case FileSendMethod::uring:
      return by_uring(socket, transfer, state);
    case FileSendMethod::copy:
      return by_copy(socket, transfer, state);
    case FileSendMethod::automatic:
    case FileSendMethod::sendfile:
      break;
  }
  return by_sendfile(socket, transfer);
}

Result<SendTurn> FileToSocket::send_head(int socket, FileSend& transfer,
                                         const SocketSendState& state) {
  while (transfer.head_sent < transfer.head.size()) {
    // MSG_MORE holds the head back until the body's first pages join it in one segment.
    const int more = remaining(transfer, state) > 0 ? MSG_MORE : 0;
    auto n = try_sys_call({"send", socket}, [&] {
      return ::send(socket, transfer.head.data() + transfer.head_sent,
                    transfer.head.size() - transfer.head_sent, MSG_NOSIGNAL | more);
    });
    if (!n) return std::unexpected(n.error());
    if (!*n) return SendTurn::blocked;
    transfer.head_sent += static_cast<std::size_t>(**n);
  }
  return SendTurn::done;
}

Result<SendTurn> FileToSocket::by_sendfile(int socket, FileSend& t) {
  std::uint64_t budget = kTurnBudget;
  while (t.offset < t.end) {
    if (budget == 0) return SendTurn::blocked;
    const std::size_t len = bounded(chunk_, t.end - t.offset);
    auto offset = static_cast<off_t>(t.offset);
    auto n = try_sys_call({"sendfile", socket},
                          [&] { return ::sendfile(socket, t.file.get(), &offset, len); });
    if (!n) return std::unexpected(n.error());
    if (!*n) return SendTurn::blocked;
    if (**n == 0) return SendTurn::truncated;
    const auto sent = static_cast<std::uint64_t>(**n);
    t.offset += sent;
    delivered(t, sent, true, budget);
  }
  return SendTurn::done;
}

Result<void> FileToSocket::ensure_pipe(SocketSendState& state) const {
  if (state.pipe_read) return {};
  auto pipe = make_pipe(O_NONBLOCK);
  if (!pipe) return std::unexpected(pipe.error());
  // A bigger pipe means fewer splices per MiB; the default of 64 KiB is kept if this fails.
  ::fcntl(pipe->write_end.get(), F_SETPIPE_SZ,
          static_cast<int>(std::min<std::size_t>(chunk_, 1 << 20)));
  const int size = ::fcntl(pipe->write_end.get(), F_GETPIPE_SZ);
  state.pipe_capacity = size > 0 ? static_cast<std::size_t>(size) : 65536;
  state.pipe_read = std::move(pipe->read_end);
  state.pipe_write = std::move(pipe->write_end);
  return {};
}

Result<SendTurn> FileToSocket::by_splice(int socket, FileSend& t, SocketSendState& s) {
  if (auto ok = ensure_pipe(s); !ok) return std::unexpected(ok.error());
  std::uint64_t budget = kTurnBudget;
  while (remaining(t, s) > 0) {
    if (budget == 0) return SendTurn::blocked;
    if (s.pipe_bytes == 0) {
      const std::size_t len = bounded(s.pipe_capacity, t.end - t.offset);
      auto offset = static_cast<loff_t>(t.offset);
      // The pipe is empty, so a non-blocking splice into it can only fail for real.
      auto n = sys_call({"splice(file to pipe)", t.file.get()}, [&] {
        return ::splice(t.file.get(), &offset, s.pipe_write.get(), nullptr, len,
                        SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      });
      if (!n) return std::unexpected(n.error());
      if (*n == 0) return SendTurn::truncated;
      t.offset += static_cast<std::uint64_t>(*n);
      s.pipe_bytes = static_cast<std::size_t>(*n);
    }
    const unsigned more = t.offset < t.end ? SPLICE_F_MORE : 0;
    auto n = try_sys_call({"splice(pipe to socket)", socket}, [&] {
      return ::splice(s.pipe_read.get(), nullptr, socket, nullptr, s.pipe_bytes,
                      SPLICE_F_MOVE | SPLICE_F_NONBLOCK | more);
    });
    if (!n) return std::unexpected(n.error());
    if (!*n) return SendTurn::blocked;
    const auto sent = static_cast<std::uint64_t>(**n);
    s.pipe_bytes -= static_cast<std::size_t>(sent);
    delivered(t, sent, true, budget);
  }
  return SendTurn::done;
}

// The splice method's two steps as one linked io_uring submission: file -> pipe, then pipe ->
// socket. A short first step breaks the link (the second completes with -ECANCELED) and the
// next round sends what the pipe holds.
Result<SendTurn> FileToSocket::by_uring(int socket, FileSend& t, SocketSendState& s) {
  if (auto ok = ensure_pipe(s); !ok) return std::unexpected(ok.error());
  IoUring& ring = *ring_;
  constexpr std::uint64_t kFill = 1;
  constexpr std::uint64_t kDrain = 2;
  std::uint64_t budget = kTurnBudget;
  while (remaining(t, s) > 0) {
    if (budget == 0) return SendTurn::blocked;
    unsigned submitted = 0;
    std::size_t fill = 0;
    if (s.pipe_bytes == 0) {
      fill = bounded(s.pipe_capacity, t.end - t.offset);
      io_uring_sqe* sqe = ring.get_sqe();
      io_uring_prep_splice(sqe, t.file.get(), static_cast<std::int64_t>(t.offset),
                           s.pipe_write.get(), -1, static_cast<unsigned>(fill), SPLICE_F_NONBLOCK);
      sqe->flags |= IOSQE_IO_LINK;
      io_uring_sqe_set_data64(sqe, kFill);
      ++submitted;
    }
    const std::size_t drain = s.pipe_bytes > 0 ? s.pipe_bytes : fill;
    const unsigned more = t.offset + fill < t.end ? SPLICE_F_MORE : 0;
    io_uring_sqe* sqe = ring.get_sqe();
    io_uring_prep_splice(sqe, s.pipe_read.get(), -1, socket, -1, static_cast<unsigned>(drain),
                         SPLICE_F_NONBLOCK | more);
    io_uring_sqe_set_data64(sqe, kDrain);
    ++submitted;
    if (auto n = ring.submit_and_wait(submitted); !n) return std::unexpected(n.error());
    int filled = 0;
    int drained = 0;
    for (unsigned seen = 0; seen < submitted; ++seen) {
      auto cqe = ring.wait_cqe();
      if (!cqe) return std::unexpected(cqe.error());
      (io_uring_cqe_get_data64(*cqe) == kFill ? filled : drained) = (*cqe)->res;
      ring.seen(*cqe);
    }
    if (submitted == 2) {
      if (filled < 0) return fail_errno(-filled, "io_uring splice(file to pipe)");
      if (filled == 0) return SendTurn::truncated;
      t.offset += static_cast<std::uint64_t>(filled);
      s.pipe_bytes += static_cast<std::size_t>(filled);
    }
    if (drained == -ECANCELED) continue;
    if (drained < 0) {
      if (would_block(-drained)) return SendTurn::blocked;
      return fail_errno(-drained,
                        "io_uring splice(pipe to socket, fd " + std::to_string(socket) + ")");
    }
    const auto sent = static_cast<std::uint64_t>(drained);
    s.pipe_bytes -= static_cast<std::size_t>(drained);
    delivered(t, sent, true, budget);
  }
  return SendTurn::done;
}

Result<SendTurn> FileToSocket::by_copy(int socket, FileSend& t, SocketSendState& s) {
  if (!s.copy_buffer) s.copy_buffer = std::make_unique<char[]>(kCopyBuffer);
  std::uint64_t budget = kTurnBudget;
  while (remaining(t, s) > 0) {
    if (budget == 0) return SendTurn::blocked;
    if (s.copy_begin == s.copy_end) {
      const std::size_t len = bounded(kCopyBuffer, t.end - t.offset);
      auto n = sys_call({"pread", t.file.get()}, [&] {
        return ::pread(t.file.get(), s.copy_buffer.get(), len, static_cast<off_t>(t.offset));
      });
      if (!n) return std::unexpected(n.error());
      if (*n == 0) return SendTurn::truncated;
      t.offset += static_cast<std::uint64_t>(*n);
      s.copy_begin = 0;
      s.copy_end = static_cast<std::size_t>(*n);
      // read(2) copies page cache -> our buffer.
      counters_->copied_kernel.fetch_add(static_cast<std::uint64_t>(*n), std::memory_order_relaxed);
    }
    const int more = t.offset < t.end ? MSG_MORE : 0;
    auto n = try_sys_call({"send", socket}, [&] {
      return ::send(socket, s.copy_buffer.get() + s.copy_begin, s.copy_end - s.copy_begin,
                    MSG_NOSIGNAL | more);
    });
    if (!n) return std::unexpected(n.error());
    if (!*n) return SendTurn::blocked;
    const auto sent = static_cast<std::uint64_t>(**n);
    s.copy_begin += static_cast<std::size_t>(sent);
    // send(2) copies our buffer -> socket buffers.
    counters_->copied_kernel.fetch_add(sent, std::memory_order_relaxed);
    delivered(t, sent, false, budget);
  }
  return SendTurn::done;
}

}  // namespace zc::net
