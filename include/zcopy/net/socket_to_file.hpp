// zcopy/net/socket_to_file.hpp: moves bytes from a socket into a file at an offset.
//
//   splice  socket -> pipe -> file with splice(2): page references move into the pipe, and the
//           kernel copies them once into the file's page cache. The bytes never enter user memory.
//   uring   the same two splices, submitted through io_uring.
//   copy    recv() into a user buffer and pwrite() it out: two copies, the classic baseline.
//   auto    splice when the kernel allows it, else copy (choose() says why in one line).
//
// With splice and uring the pipe is the only buffer: the socket is read only when the pipe has
// been drained into the file, so a slow disk leaves data in the socket, TCP's window closes and
// the sender waits.
//
// Built for a blocking socket with a receive timeout (SO_RCVTIMEO): a read whose timeout passes
// without data is not an error but a slice, and the caller's after_read hook hears of it (with 0
// bytes), so a stall rule or a stop flag is applied while nothing arrives. The hooks run on the
// calling thread.
//
// While a body arrives the socket's low-water mark (SO_RCVLOWAT) is raised to 256 KiB, or to what
// is left of the body when less, so a link that delivers a few packets at a time wakes the reader
// once per quarter MiB rather than per burst; a slice still ends with what arrived below the mark.
// The mark is back at 1 when receive() returns.
//
//   auto mover = zc::net::SocketToFile::create(ReceiveMethod::splice);
//   auto n = mover->receive({.socket = s, .file = f, .offset = 0, .length = size, .name = "out"},
//                           {.written = [&](std::uint64_t b) { done += b; },
//                            .after_read = [&](std::uint64_t b) { return watch.update(b); }});
//
// ledger() counts what it did: bytes written, moved without a CPU copy, copied by the kernel.
// Not thread-safe: one thread receives through a mover.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "zcopy/core/error.hpp"
#include "zcopy/core/fd.hpp"
#include "zcopy/core/method_ladder.hpp"
#include "zcopy/core/transfer_ledger.hpp"
#include "zcopy/net/io_uring.hpp"

namespace zc::net {

enum class ReceiveMethod : std::uint8_t { automatic, splice, uring, copy };

std::string_view to_string(ReceiveMethod method) noexcept;  // "auto", "splice", ...
std::optional<ReceiveMethod> receive_method_from_name(std::string_view text) noexcept;
// The method `requested` is on this machine; Errc::capability_missing for an explicit one the
// kernel lacks.
Result<MethodChoice<ReceiveMethod>> choose(ReceiveMethod requested);

class SocketToFile {
 public:
  struct Target {
    int socket = -1;
    int file = -1;
    std::uint64_t offset = 0;             // where the first byte goes in the file
    std::optional<std::uint64_t> length;  // exact size; empty: until the peer closes
    std::string name;                     // the file, for error messages
  };
  struct Hooks {
    // After every write into the file: `bytes` more are in it, after the earlier ones.
    std::function<void(std::uint64_t bytes)> written;
    // After every read (`bytes` 0 when a receive timeout passed without data); an error ends
    // the transfer with that error.
    std::function<Result<void>(std::uint64_t bytes)> after_read;
  };

  // `method` as choose() gave it (automatic receives by splice).
  static Result<SocketToFile> create(ReceiveMethod method);

  SocketToFile(SocketToFile&&) noexcept = default;
  SocketToFile& operator=(SocketToFile&&) noexcept = default;
  SocketToFile(const SocketToFile&) = delete;
  SocketToFile& operator=(const SocketToFile&) = delete;

  // Returns the bytes written. Bytes that end before `length` are an error (Errc::closed) saying
  // how many arrived; a full disk is the write's ENOSPC naming the file.
  Result<std::uint64_t> receive(const Target& target, const Hooks& hooks);

  ReceiveMethod method() const noexcept { return method_; }
  // What every receive() so far moved and copied (bytes fields only; `method` is its name).
  const TransferLedger& ledger() const noexcept { return ledger_; }

 private:
  explicit SocketToFile(ReceiveMethod method);

  Result<std::uint64_t> receive_spliced(const Target& t, const Hooks& hooks);
  Result<std::uint64_t> receive_uring(const Target& t, const Hooks& hooks);
  Result<std::uint64_t> receive_copied(const Target& t, const Hooks& hooks);
  Result<void> ensure_pipe();
  // Empties `in_pipe` bytes from the pipe into the file at `offset`.
  Result<void> drain_pipe(const Target& t, const Hooks& hooks, std::size_t in_pipe,
                          std::uint64_t offset);
  Result<void> pwrite_all(const Target& t, const Hooks& hooks, std::string_view data,
                          std::uint64_t offset);
  // `n` bytes reached the file.
  void written(const Hooks& hooks, std::uint64_t n);

  ReceiveMethod method_;
  std::optional<Pipe> pipe_;  // splice and uring; dropped after a failure, which may leave bytes
  std::size_t pipe_capacity_ = 0;
  std::optional<IoUring> ring_;  // uring only
  TransferLedger ledger_;
};

}  // namespace zc::net
