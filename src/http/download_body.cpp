#include "download_body.hpp"

#include <fcntl.h>
#include <liburing.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "part_progress.hpp"
#include "stall_watch.hpp"
#include "zcopy/core/fd.hpp"
#include "zcopy/core/syscall.hpp"
#include "zcopy/http/response_chunked.hpp"

namespace zc::http::detail {
namespace {

// Large enough that one splice moves a useful amount, small enough that it is the only buffer.
constexpr int kPipeBytes = 1 << 20;
constexpr std::size_t kCopyBuffer = 256 * 1024;

std::uint64_t wanted(const BodyTransfer& t, std::uint64_t done, std::uint64_t cap) {
  if (!t.length) return cap;
  return std::min<std::uint64_t>(cap, *t.length - done);
}

bool finished(const BodyTransfer& t, std::uint64_t done) {
  return t.length && done >= *t.length;
}

void count(const BodyTransfer& t, std::uint64_t n) {
  if (t.progress) t.progress->fetch_add(n, std::memory_order_relaxed);
  if (t.part) t.part->advance(t.range, n);
}

StallWatch watch_for(const BodyTransfer& t) {
  return StallWatch(t.timeout, t.stop, "receive body for " + t.file_name);
}

// After every read: `got` bytes arrived (0 when a slice passed). Applies the stall rule and the
// stop flag, and brings the record up to date now and then.
Result<void> after_read(const BodyTransfer& t, StallWatch& watch, std::uint64_t got) {
  if (auto r = watch.update(got); !r) return r;
  if (t.part && got > 0) return t.part->maybe_save();
  return {};
}

std::unexpected<Error> socket_error(const BodyTransfer& t, const Error& error) {
  return std::unexpected(Error(error).with_context("receive body for " + t.file_name));
}

std::unexpected<Error> write_error(const BodyTransfer& t, const Error& error) {
  return std::unexpected(Error(error).with_context("write " + t.file_name));
}

Result<std::uint64_t> end_of_stream(const BodyTransfer& t, std::uint64_t done) {
  if (t.length && done < *t.length) {
    return fail(Errc::closed, "receive body for " + t.file_name,
                "truncated body: the server closed the connection after " + std::to_string(done) +
                    " of " + std::to_string(*t.length) + " bytes");
  }
  return done;
}

Result<Pipe> sized_pipe() {
  auto pipe = make_pipe();
  if (!pipe) return std::unexpected(pipe.error());
  // A smaller pipe only costs more splices; fs.pipe-max-size may refuse the size, which is fine.
  (void)::fcntl(pipe->write_end.get(), F_SETPIPE_SZ, kPipeBytes);
  return pipe;
}

std::size_t pipe_capacity(const Pipe& pipe) {
  const int size = ::fcntl(pipe.write_end.get(), F_GETPIPE_SZ);
  return size > 0 ? static_cast<std::size_t>(size) : 65536;
}

// Empties `in_pipe` bytes from the pipe into the file at `offset`.
Result<void> drain_pipe(const BodyTransfer& t, const Pipe& pipe, std::size_t in_pipe,
                        std::uint64_t offset) {
  auto file_offset = static_cast<loff_t>(offset);
  while (in_pipe > 0) {
    auto n = sys_call({"splice(pipe to file)", t.file}, [&] {
      return ::splice(pipe.read_end.get(), nullptr, t.file, &file_offset, in_pipe, SPLICE_F_MOVE);
    });
    if (!n) return write_error(t, n.error());
    if (*n == 0) return fail(Errc::closed, "splice(pipe to file) " + t.file_name, "pipe empty");
    in_pipe -= static_cast<std::size_t>(*n);
    count(t, static_cast<std::uint64_t>(*n));
  }
  return {};
}

Result<std::uint64_t> receive_spliced(const BodyTransfer& t) {
  auto pipe = sized_pipe();
  if (!pipe) return std::unexpected(pipe.error());
  const std::size_t capacity = pipe_capacity(*pipe);
  StallWatch watch = watch_for(t);
  std::uint64_t done = 0;
  while (!finished(t, done)) {
    const auto ask = static_cast<std::size_t>(wanted(t, done, capacity));
    auto n = sys_call({"splice(socket to pipe)", t.socket}, [&] {
      return ::splice(t.socket, nullptr, pipe->write_end.get(), nullptr, ask,
                      SPLICE_F_MOVE | SPLICE_F_MORE);
    });
    if (!n && !slice_passed(n.error())) return socket_error(t, n.error());
    if (n && *n == 0) break;
    const auto got = n ? static_cast<std::size_t>(*n) : 0;
    if (auto r = drain_pipe(t, *pipe, got, t.offset + done); !r) return std::unexpected(r.error());
    done += got;
    if (auto r = after_read(t, watch, got); !r) return std::unexpected(r.error());
  }
  return end_of_stream(t, done);
}

struct RingGuard {
  io_uring* ring;
  ~RingGuard() { io_uring_queue_exit(ring); }
};

constexpr std::uint64_t kFromSocket = 1;
constexpr std::uint64_t kToFile = 2;

// Each round is one submission of two hard-linked splices: socket -> pipe, then pipe -> file.
// The link is hard because a short first splice is normal and must not cancel the second; the
// second is non-blocking on the pipe, so after a short or empty first one it moves what is there
// (or nothing, EAGAIN) instead of waiting on a pipe only we could fill.
Result<std::uint64_t> receive_uring(const BodyTransfer& t) {
  auto pipe = sized_pipe();
  if (!pipe) return std::unexpected(pipe.error());
  const std::size_t capacity = pipe_capacity(*pipe);
  io_uring ring{};
  if (const int rc = io_uring_queue_init(4, &ring, 0); rc < 0) {
    return fail_errno(-rc, "io_uring_queue_init(4)");
  }
  RingGuard guard{&ring};
  StallWatch watch = watch_for(t);
  std::uint64_t received = 0;  // socket -> pipe
  std::uint64_t written = 0;   // pipe -> file
  bool end_of_stream_seen = false;
  for (;;) {
    const std::size_t in_pipe = static_cast<std::size_t>(received - written);
    const bool want_more = !end_of_stream_seen && !finished(t, received);
    if (!want_more && in_pipe == 0) break;
    const auto ask = want_more ? static_cast<std::size_t>(wanted(t, received, capacity - in_pipe))
                               : std::size_t{0};
    unsigned submitted = 0;
    if (ask > 0) {
      io_uring_sqe* in = io_uring_get_sqe(&ring);
      io_uring_prep_splice(in, t.socket, -1, pipe->write_end.get(), -1, static_cast<unsigned>(ask),
                           SPLICE_F_MOVE);
      in->flags |= IOSQE_IO_HARDLINK;
      io_uring_sqe_set_data64(in, kFromSocket);
      ++submitted;
    }
    io_uring_sqe* out = io_uring_get_sqe(&ring);
    io_uring_prep_splice(out, pipe->read_end.get(), -1, t.file,
                         static_cast<std::int64_t>(t.offset + written),
                         static_cast<unsigned>(capacity), SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    io_uring_sqe_set_data64(out, kToFile);
    ++submitted;
    if (const int rc = io_uring_submit_and_wait(&ring, submitted); rc < 0) {
      return fail_errno(-rc, "io_uring_submit_and_wait");
    }
    std::optional<Error> failure;
    const std::uint64_t written_before = written;
    for (unsigned i = 0; i < submitted; ++i) {
      io_uring_cqe* cqe = nullptr;
      if (const int rc = io_uring_wait_cqe(&ring, &cqe); rc < 0) {
        return fail_errno(-rc, "io_uring_wait_cqe");
      }
      const int res = cqe->res;
      const std::uint64_t which = io_uring_cqe_get_data64(cqe);
      io_uring_cqe_seen(&ring, cqe);
      if (which == kFromSocket) {
        if (res == -EAGAIN || res == -EWOULDBLOCK) {
          // The receive slice passed without data; the stall rule below decides.
        } else if (res < 0 && !failure) {
          failure =
              socket_error(t, Error::from_errno(-res, "io_uring splice(socket to pipe)")).error();
        } else if (res == 0) {
          end_of_stream_seen = true;
        } else if (res > 0) {
          received += static_cast<std::uint64_t>(res);
        }
      } else if (res > 0) {
        written += static_cast<std::uint64_t>(res);
        count(t, static_cast<std::uint64_t>(res));
      } else if (res < 0 && res != -EAGAIN && !failure) {
        failure = write_error(t, Error::from_errno(-res, "io_uring splice(pipe to file)")).error();
      }
    }
    if (failure) return std::unexpected(std::move(*failure));
    if (auto r = after_read(t, watch, written - written_before); !r) {
      return std::unexpected(r.error());
    }
  }
  return end_of_stream(t, written);
}

Result<void> pwrite_all(const BodyTransfer& t, std::string_view data, std::uint64_t offset) {
  while (!data.empty()) {
    auto n = sys_call({"pwrite", t.file}, [&] {
      return ::pwrite(t.file, data.data(), data.size(), static_cast<off_t>(offset));
    });
    if (!n) return write_error(t, n.error());
    data.remove_prefix(static_cast<std::size_t>(*n));
    offset += static_cast<std::uint64_t>(*n);
    count(t, static_cast<std::uint64_t>(*n));
  }
  return {};
}

Result<std::uint64_t> receive_copied(const BodyTransfer& t) {
  std::vector<char> buffer(kCopyBuffer);
  StallWatch watch = watch_for(t);
  std::uint64_t done = 0;
  while (!finished(t, done)) {
    const auto ask = static_cast<std::size_t>(wanted(t, done, buffer.size()));
    auto n = sys_call({"recv", t.socket}, [&] { return ::recv(t.socket, buffer.data(), ask, 0); });
    if (!n && !slice_passed(n.error())) return socket_error(t, n.error());
    if (n && *n == 0) break;
    const auto got = n ? static_cast<std::size_t>(*n) : 0;
    if (auto r = pwrite_all(t, {buffer.data(), got}, t.offset + done); !r) {
      return std::unexpected(r.error());
    }
    done += got;
    if (auto r = after_read(t, watch, got); !r) return std::unexpected(r.error());
  }
  return end_of_stream(t, done);
}

Result<std::uint64_t> receive_chunked(const BodyTransfer& t) {
  std::vector<char> buffer(kCopyBuffer);
  ChunkedDecoder decoder;
  std::uint64_t written = 0;
  const ChunkedDecoder::Sink sink = [&](std::string_view data) -> Result<void> {
    if (auto r = pwrite_all(t, data, t.offset + written); !r) return r;
    written += data.size();
    return {};
  };
  StallWatch watch = watch_for(t);
  while (!decoder.done()) {
    auto n = sys_call({"recv", t.socket},
                      [&] { return ::recv(t.socket, buffer.data(), buffer.size(), 0); });
    if (!n && !slice_passed(n.error())) return socket_error(t, n.error());
    if (auto r = watch.update(n ? static_cast<std::uint64_t>(*n) : 0); !r) {
      return std::unexpected(r.error());
    }
    if (!n) continue;
    if (*n == 0) {
      return fail(Errc::closed, "receive body for " + t.file_name,
                  "truncated chunked body: the server closed the connection after " +
                      std::to_string(written) + " bytes");
    }
    auto used = decoder.feed({buffer.data(), static_cast<std::size_t>(*n)}, sink);
    if (!used) return std::unexpected(std::move(used.error()).with_context(t.file_name));
  }
  return written;
}

}  // namespace

Result<std::uint64_t> receive_body(const BodyTransfer& transfer) {
  if (transfer.chunked) return receive_chunked(transfer);
  switch (transfer.method) {
    case DownloadMethod::uring:
      return receive_uring(transfer);
    case DownloadMethod::copy:
      return receive_copied(transfer);
    case DownloadMethod::splice:
    case DownloadMethod::automatic:
      break;
  }
  return receive_spliced(transfer);
}

}  // namespace zc::http::detail
