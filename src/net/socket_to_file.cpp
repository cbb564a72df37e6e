#include "zcopy/net/socket_to_file.hpp"

#include <fcntl.h>
#include <liburing.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "zcopy/core/syscall.hpp"
#include "zcopy/net/wake_mark.hpp"

namespace zc::net {
namespace {

constexpr MethodLadder<ReceiveMethod, 4> kReceiveMethods{
    "--method",
    ReceiveMethod::automatic,
    {{
        {ReceiveMethod::automatic, "auto"},
        {ReceiveMethod::splice, "splice", Capability::splice, true},
        {ReceiveMethod::uring, "uring", Capability::io_uring_splice},
        {ReceiveMethod::copy, "copy", std::nullopt, true},
    }}};

// Large enough that one splice moves a useful amount, small enough that it is the only buffer.
constexpr int kPipeBytes = 1 << 20;
constexpr std::size_t kCopyBuffer = 256 * 1024;

std::uint64_t wanted(const SocketToFile::Target& t, std::uint64_t done, std::uint64_t cap) {
  if (!t.length) return cap;
  return std::min<std::uint64_t>(cap, *t.length - done);
}

bool finished(const SocketToFile::Target& t, std::uint64_t done) {
  return t.length && done >= *t.length;
}

std::string reading(const SocketToFile::Target& t) {
  return "receive body for " + t.name;
}

std::unexpected<Error> socket_error(const SocketToFile::Target& t, const Error& error) {
  return std::unexpected(Error(error).with_context(reading(t)));
}

std::unexpected<Error> write_error(const SocketToFile::Target& t, const Error& error) {
  return std::unexpected(Error(error).with_context("write " + t.name));
}

Result<void> after_read(const SocketToFile::Hooks& hooks, std::uint64_t got) {
  return hooks.after_read ? hooks.after_read(got) : Result<void>{};
}

Result<std::uint64_t> end_of_stream(const SocketToFile::Target& t, std::uint64_t done) {
  if (t.length && done < *t.length) {
    return fail(Errc::closed, reading(t),
                "truncated body: the peer closed the connection after " + std::to_string(done) +
                    " of " + std::to_string(*t.length) + " bytes");
  }
  return done;
}

}  // namespace

std::string_view to_string(ReceiveMethod method) noexcept {
  return kReceiveMethods.to_string(method);
}

std::optional<ReceiveMethod> receive_method_from_name(std::string_view text) noexcept {
  return kReceiveMethods.from_name(text);
}

Result<MethodChoice<ReceiveMethod>> choose(ReceiveMethod requested) {
  return kReceiveMethods.choose(requested);
}

SocketToFile::SocketToFile(ReceiveMethod method) : method_(method) {
  ledger_.method = std::string(to_string(method));
}

Result<SocketToFile> SocketToFile::create(ReceiveMethod method) {
  SocketToFile mover(method == ReceiveMethod::automatic ? ReceiveMethod::splice : method);
  if (method == ReceiveMethod::uring) {
    auto ring = IoUring::create(4);
    if (!ring) return std::unexpected(ring.error());
    mover.ring_ = std::move(*ring);
  }
  return mover;
}

Result<std::uint64_t> SocketToFile::receive(const Target& target, const Hooks& hooks) {
  Result<std::uint64_t> moved = method_ == ReceiveMethod::copy    ? receive_copied(target, hooks)
                                : method_ == ReceiveMethod::uring ? receive_uring(target, hooks)
                                                                  : receive_spliced(target, hooks);
  if (!moved) pipe_.reset();
  return moved;
}

void SocketToFile::written(const Hooks& hooks, std::uint64_t n) {
  ledger_.bytes += n;
  if (method_ == ReceiveMethod::copy) {
    // recv() copies out of the socket buffer, pwrite() copies into the page cache.
    ledger_.bytes_copied_kernel += 2 * n;
  } else {
    // Page references move from the socket into the pipe; the pipe-to-file splice copies them
    // into the page cache once.
    ledger_.bytes_zero_copy += n;
    ledger_.bytes_copied_kernel += n;
  }
  if (hooks.written) hooks.written(n);
}

Result<void> SocketToFile::ensure_pipe() {
  if (pipe_) return {};
  auto pipe = make_pipe();
  if (!pipe) return std::unexpected(pipe.error());
  // A smaller pipe only costs more splices; fs.pipe-max-size may refuse the size, which is fine.
  (void)::fcntl(pipe->write_end.get(), F_SETPIPE_SZ, kPipeBytes);
  const int size = ::fcntl(pipe->write_end.get(), F_GETPIPE_SZ);
  pipe_capacity_ = size > 0 ? static_cast<std::size_t>(size) : 65536;
  pipe_ = std::move(*pipe);
  return {};
}

Result<void> SocketToFile::drain_pipe(const Target& t, const Hooks& hooks, std::size_t in_pipe,
                                      std::uint64_t offset) {
  auto file_offset = static_cast<loff_t>(offset);
  while (in_pipe > 0) {
    auto n = sys_call({"splice(pipe to file)", t.file}, [&] {
      return ::splice(pipe_->read_end.get(), nullptr, t.file, &file_offset, in_pipe, SPLICE_F_MOVE);
    });
    if (!n) return write_error(t, n.error());
    if (*n == 0) return fail(Errc::closed, "splice(pipe to file) " + t.name, "pipe empty");
    in_pipe -= static_cast<std::size_t>(*n);
    written(hooks, static_cast<std::uint64_t>(*n));
  }
  return {};
}

Result<std::uint64_t> SocketToFile::receive_spliced(const Target& t, const Hooks& hooks) {
  if (auto ok = ensure_pipe(); !ok) return std::unexpected(ok.error());
  std::uint64_t done = 0;
  WakeMark mark(t.socket, t.length);
  while (!finished(t, done)) {
    mark.before_read(done);
    const auto ask = static_cast<std::size_t>(wanted(t, done, pipe_capacity_));
    auto n = try_sys_call({"splice(socket to pipe)", t.socket}, [&] {
      return ::splice(t.socket, nullptr, pipe_->write_end.get(), nullptr, ask,
                      SPLICE_F_MOVE | SPLICE_F_MORE);
    });
    if (!n) return socket_error(t, n.error());
    if (*n && **n == 0) break;
    const auto got = *n ? static_cast<std::size_t>(**n) : 0;  // none: a slice passed
    if (auto r = drain_pipe(t, hooks, got, t.offset + done); !r) return std::unexpected(r.error());
    done += got;
    if (auto r = after_read(hooks, got); !r) return std::unexpected(r.error());
  }
  return end_of_stream(t, done);
}

// Each round is one submission of two hard-linked splices: socket -> pipe, then pipe -> file.
// The link is hard because a short first splice is normal and must not cancel the second; the
// second is non-blocking on the pipe, so after a short or empty first one it moves what is there
// (or nothing, EAGAIN) instead of waiting on a pipe only we could fill.
Result<std::uint64_t> SocketToFile::receive_uring(const Target& t, const Hooks& hooks) {
  if (auto ok = ensure_pipe(); !ok) return std::unexpected(ok.error());
  constexpr std::uint64_t kFromSocket = 1;
  constexpr std::uint64_t kToFile = 2;
  IoUring& ring = *ring_;
  std::uint64_t received = 0;  // socket -> pipe
  std::uint64_t moved = 0;     // pipe -> file
  bool end_of_stream_seen = false;
  WakeMark mark(t.socket, t.length);
  for (;;) {
    const std::size_t in_pipe = static_cast<std::size_t>(received - moved);
    const bool want_more = !end_of_stream_seen && !finished(t, received);
    if (!want_more && in_pipe == 0) break;
    const auto ask = want_more
                         ? static_cast<std::size_t>(wanted(t, received, pipe_capacity_ - in_pipe))
                         : std::size_t{0};
    unsigned submitted = 0;
    if (ask > 0) {
      mark.before_read(received);
      io_uring_sqe* in = ring.get_sqe();
      io_uring_prep_splice(in, t.socket, -1, pipe_->write_end.get(), -1, static_cast<unsigned>(ask),
                           SPLICE_F_MOVE);
      in->flags |= IOSQE_IO_HARDLINK;
      io_uring_sqe_set_data64(in, kFromSocket);
      ++submitted;
    }
    io_uring_sqe* out = ring.get_sqe();
    io_uring_prep_splice(out, pipe_->read_end.get(), -1, t.file,
                         static_cast<std::int64_t>(t.offset + moved),
                         static_cast<unsigned>(pipe_capacity_), SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    io_uring_sqe_set_data64(out, kToFile);
    ++submitted;
    if (auto n = ring.submit_and_wait(submitted); !n) return std::unexpected(n.error());
    std::optional<Error> failure;
    const std::uint64_t moved_before = moved;
    for (unsigned i = 0; i < submitted; ++i) {
      auto cqe = ring.wait_cqe();
      if (!cqe) return std::unexpected(cqe.error());
      const int res = (*cqe)->res;
      const std::uint64_t which = io_uring_cqe_get_data64(*cqe);
      ring.seen(*cqe);
      if (which == kFromSocket) {
        if (res < 0 && would_block(-res)) {
          // The receive slice passed without data; the after_read hook decides.
        } else if (res < 0 && !failure) {
          failure =
              socket_error(t, Error::from_errno(-res, "io_uring splice(socket to pipe)")).error();
        } else if (res == 0) {
          end_of_stream_seen = true;
        } else if (res > 0) {
          received += static_cast<std::uint64_t>(res);
        }
      } else if (res > 0) {
        moved += static_cast<std::uint64_t>(res);
        written(hooks, static_cast<std::uint64_t>(res));
      } else if (res < 0 && !would_block(-res) && !failure) {
        failure = write_error(t, Error::from_errno(-res, "io_uring splice(pipe to file)")).error();
      }
    }
    if (failure) return std::unexpected(std::move(*failure));
    if (auto r = after_read(hooks, moved - moved_before); !r) return std::unexpected(r.error());
  }
  return end_of_stream(t, moved);
}

Result<void> SocketToFile::pwrite_all(const Target& t, const Hooks& hooks, std::string_view data,
                                      std::uint64_t offset) {
  while (!data.empty()) {
    auto n = sys_call({"pwrite", t.file}, [&] {
      return ::pwrite(t.file, data.data(), data.size(), static_cast<off_t>(offset));
    });
    if (!n) return write_error(t, n.error());
    data.remove_prefix(static_cast<std::size_t>(*n));
    offset += static_cast<std::uint64_t>(*n);
    written(hooks, static_cast<std::uint64_t>(*n));
  }
  return {};
}

Result<std::uint64_t> SocketToFile::receive_copied(const Target& t, const Hooks& hooks) {
  // A small body needs no more than its own size (nor a fresh mapping of a large buffer).
  const std::size_t size =
      t.length ? static_cast<std::size_t>(std::clamp<std::uint64_t>(*t.length, 1, kCopyBuffer))
               : kCopyBuffer;
  std::vector<char> buffer(size);
  std::uint64_t done = 0;
  WakeMark mark(t.socket, t.length);
  while (!finished(t, done)) {
    mark.before_read(done);
    const auto ask = static_cast<std::size_t>(wanted(t, done, buffer.size()));
    int flags = 0;
    if (mark.raised()) {
      if (auto r = mark.wait(); !r) return socket_error(t, r.error());
      flags = MSG_DONTWAIT;  // nothing there: the slice passed
    }
    auto n = try_sys_call({"recv", t.socket},
                          [&] { return ::recv(t.socket, buffer.data(), ask, flags); });
    if (!n) return socket_error(t, n.error());
    if (*n && **n == 0) break;
    const auto got = *n ? static_cast<std::size_t>(**n) : 0;  // none: a slice passed
    if (auto r = pwrite_all(t, hooks, {buffer.data(), got}, t.offset + done); !r) {
      return std::unexpected(r.error());
    }
    done += got;
    if (auto r = after_read(hooks, got); !r) return std::unexpected(r.error());
  }
  return end_of_stream(t, done);
}

}  // namespace zc::net
