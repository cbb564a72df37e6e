// zcopy/net/file_to_socket.hpp: moves a range of a file into a socket, a bounded amount per turn.
//
//   sendfile  sendfile(2): the socket takes references to page-cache pages; no CPU copy.
//   splice    file -> pipe -> socket with splice(2): page references move through a pipe.
//   uring     the same two splices, submitted together as one linked io_uring batch.
//   copy      pread into a buffer, then send: the classic loop and the baseline (two copies).
//   auto      sendfile, else splice, else copy (choose() says why in one line).
//
// Built for a non-blocking socket served by an event loop: send() sends a head from memory (an
// HTTP response head, say) and then the file range, until it is all in the socket, the socket is
// full, or the turn's budget is spent, and says which; the caller waits for EPOLLOUT and calls
// again. A large range goes corked (TCP_CORK) so the kernel sends only full segments until the
// end. What a socket's transfers keep between turns (a pipe with the bytes parked in it, a copy
// buffer) lives in its SocketSendState, made on first use and reused by its next transfers.
//
//   auto mover = zc::net::FileToSocket::create(FileSendMethod::sendfile, 2 << 20, counters);
//   zc::Result<SendTurn> turn = mover->send(socket, transfer, socket_state);
//
// Every byte is counted in the CopyCounters given to create(): delivered, zero-copy, copied by
// the kernel. One mover per thread (it may own an io_uring); the counters may be shared.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "zcopy/core/error.hpp"
#include "zcopy/core/fd.hpp"
#include "zcopy/core/method_ladder.hpp"
#include "zcopy/core/transfer_ledger.hpp"
#include "zcopy/net/io_uring.hpp"

namespace zc::net {

enum class FileSendMethod : std::uint8_t { automatic, sendfile, splice, uring, copy };

std::string_view to_string(FileSendMethod method) noexcept;  // "auto", "sendfile", ...
std::optional<FileSendMethod> file_send_method_from_name(std::string_view text) noexcept;
// The method `requested` is on this machine; Errc::capability_missing for an explicit one the
// kernel lacks.
Result<MethodChoice<FileSendMethod>> choose(FileSendMethod requested);

// A copy ledger that several threads add to, with relaxed atomics: they are totals only, and no
// other memory is published through them.
struct CopyCounters {
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::uint64_t> zero_copy{0};
  std::atomic<std::uint64_t> copied_user{0};
  std::atomic<std::uint64_t> copied_kernel{0};
  std::atomic<std::uint64_t> ciphered{0};  // bytes a cipher passed over (TLS), not a copy

  // The totals so far, into `ledger`'s byte counts.
  void read_into(TransferLedger& ledger) const noexcept;
};

// One transfer: `head` from memory, then the file's bytes [offset, end).
struct FileSend {
  std::string head;
  std::size_t head_sent = 0;
  Fd file;
  std::uint64_t offset = 0;     // next file byte to read
  std::uint64_t end = 0;        // one past the last file byte to send
  std::uint64_t file_sent = 0;  // file bytes now in the socket
};

// What one socket's transfers keep between turns.
struct SocketSendState {
  Fd pipe_read;
  Fd pipe_write;
  std::size_t pipe_capacity = 0;
  std::size_t pipe_bytes = 0;  // spliced into the pipe, not yet into the socket
  std::unique_ptr<char[]> copy_buffer;
  std::size_t copy_begin = 0;
  std::size_t copy_end = 0;
  bool corked = false;  // TCP_CORK is on for the transfer in flight
};

// File bytes of `send` still to reach the socket, including those parked in `state`.
inline std::uint64_t remaining(const FileSend& send, const SocketSendState& state) noexcept {
  return send.end - send.offset + state.pipe_bytes + (state.copy_end - state.copy_begin);
}

enum class SendTurn : std::uint8_t {
  done,       // head and file range are all in the socket
  blocked,    // the socket is full (or this turn's budget is spent): wait until it is writable
  truncated,  // the file ended before `end`
};

class FileToSocket {
 public:
  // `method` as choose() gave it (automatic sends by sendfile). `chunk_bytes` is the most one
  // sendfile moves, and the pipe's size for splice and uring (up to 1 MiB).
  static Result<FileToSocket> create(FileSendMethod method, std::size_t chunk_bytes,
                                     CopyCounters& counters);

  FileToSocket(FileToSocket&&) noexcept = default;
  FileToSocket& operator=(FileToSocket&&) noexcept = default;
  FileToSocket(const FileToSocket&) = delete;
  FileToSocket& operator=(const FileToSocket&) = delete;

  // One turn of `send` on `socket`. An error is the call that failed (the peer hung up: EPIPE or
  // ECONNRESET); the caller closes the connection.
  Result<SendTurn> send(int socket, FileSend& send, SocketSendState& state);

  FileSendMethod method() const noexcept { return method_; }

 private:
  FileToSocket(FileSendMethod method, std::size_t chunk_bytes, CopyCounters& counters)
      : method_(method), chunk_(chunk_bytes), counters_(&counters) {}

  Result<SendTurn> send_head(int socket, FileSend& send, const SocketSendState& state);
  Result<SendTurn> send_body(int socket, FileSend& send, SocketSendState& state);
  Result<SendTurn> by_sendfile(int socket, FileSend& send);
  Result<SendTurn> by_splice(int socket, FileSend& send, SocketSendState& state);
  Result<SendTurn> by_uring(int socket, FileSend& send, SocketSendState& state);
  Result<SendTurn> by_copy(int socket, FileSend& send, SocketSendState& state);
  Result<void> ensure_pipe(SocketSendState& state) const;
  // Records `n` file bytes of `send` delivered to the socket, out of this turn's `budget`.
  void delivered(FileSend& send, std::uint64_t n, bool zero_copy, std::uint64_t& budget) noexcept;

  FileSendMethod method_;
  std::size_t chunk_;
  CopyCounters* counters_;
  std::optional<IoUring> ring_;  // uring only
};

}  // namespace zc::net
