#include "download_body.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <optional>
#include <span>
#include <vector>

#include "file_hasher.hpp"
#include "part_progress.hpp"
#include "stall_watch.hpp"
#include "zcopy/core/syscall.hpp"
#include "zcopy/http/client/response_chunked.hpp"
#include "zcopy/http/client/tls_stream.hpp"
#include "zcopy/net/wake_mark.hpp"
#include "zcopy/secure/buffered_record_reader.hpp"

namespace zc::http::detail {
namespace {

constexpr std::size_t kChunkedBuffer = 256 * 1024;
// What one read of a TLS body waits for: as much as the record layer's buffer takes.
constexpr std::size_t kReadBatch = secure::BufferedRecordReader::kDefaultCapacity;

void count(const BodyTransfer& t, std::uint64_t n) {
  if (t.progress) t.progress->fetch_add(n, std::memory_order_relaxed);
  if (t.part) t.part->advance(t.range, n);
  if (t.hasher) t.hasher->landed(n);
}

StallWatch watch_for(const BodyTransfer& t) {
  return StallWatch(t.timeout, t.stop, "receive body for " + t.file_name);
}

// After every read: `got` bytes arrived (0 when a slice passed). Applies the stall rule and the
// stop flag, and brings the record up to date now and then.
Result<void> after_read(const BodyTransfer& t, StallWatch& watch, std::uint64_t got) {
  if (auto r = watch.update(got); !r) return r;
  if (t.hasher && got > 0) {
    if (auto r = t.hasher->catch_up(); !r) return r;
  }
  if (t.part && got > 0) return t.part->maybe_save();
  return {};
}

// Bytes and copies only: a mover's ledger holds no time.
void add_copies(TransferLedger* into, const TransferLedger& from) {
  if (into != nullptr) into->merge(from);
}

Result<void> pwrite_all(const BodyTransfer& t, std::string_view data, std::uint64_t offset) {
  while (!data.empty()) {
    auto n = sys_call({"pwrite", t.file}, [&] {
      return ::pwrite(t.file, data.data(), data.size(), static_cast<off_t>(offset));
    });
    if (!n) return std::unexpected(Error(n.error()).with_context("write " + t.file_name));
    data.remove_prefix(static_cast<std::size_t>(*n));
    offset += static_cast<std::uint64_t>(*n);
    count(t, static_cast<std::uint64_t>(*n));
  }
  return {};
}

// Writes what it is given at the body's next offset, counting it in `written`.
ChunkedDecoder::Sink file_sink(const BodyTransfer& t, std::uint64_t& written) {
  return [&t, &written](std::string_view data) -> Result<void> {
    if (auto r = pwrite_all(t, data, t.offset + written); !r) return r;
    written += data.size();
    return {};
  };
}

Result<std::uint64_t> receive_chunked(const BodyTransfer& t) {
  std::vector<char> buffer(kChunkedBuffer);
  ChunkedDecoder decoder;
  std::uint64_t written = 0;
  const ChunkedDecoder::Sink sink = file_sink(t, written);
  StallWatch watch = watch_for(t);
  while (!decoder.done()) {
    auto received = try_sys_call({"recv", t.socket},
                                 [&] { return ::recv(t.socket, buffer.data(), buffer.size(), 0); });
    if (!received) {
      return std::unexpected(
          Error(received.error()).with_context("receive body for " + t.file_name));
    }
    const auto n = *received;  // empty: a receive slice passed
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
  // recv() copies out of the socket buffer, pwrite() copies into the page cache.
  add_copies(t.ledger, {.method = "", .bytes = written, .bytes_copied_kernel = 2 * written});
  return written;
}

// Verified plaintext waiting to be written, record by record, with one pwritev: the records
// stay where they were opened (the stream keeps them valid until it must read the socket).
class WriteBatch {
 public:
  explicit WriteBatch(const BodyTransfer& t) : t_(t) {}

  bool full() const noexcept { return count_ == kMaxPieces; }
  // Bytes gathered and not yet written.
  std::uint64_t size() const noexcept { return bytes_; }

  void add(std::span<const std::byte> data) noexcept {
    // iovec's base is not const; pwritev only reads it.
    pieces_[count_++] = {const_cast<std::byte*>(data.data()), data.size()};
    bytes_ += data.size();
  }

  // Writes what was gathered at `offset`, counting it as it lands.
  Result<void> flush(std::uint64_t offset) {
    iovec* piece = pieces_.data();
    std::size_t left = count_;
    while (left > 0) {
      auto n = sys_call({"pwritev", t_.file}, [&] {
        return ::pwritev(t_.file, piece, static_cast<int>(left), static_cast<off_t>(offset));
      });
      if (!n) return std::unexpected(Error(n.error()).with_context("write " + t_.file_name));
      auto written = static_cast<std::size_t>(*n);
      offset += written;
      bytes_ -= written;
      count(t_, written);
      while (left > 0 && written >= piece->iov_len) {
        written -= piece->iov_len;
        ++piece;
        --left;
      }
      if (left > 0) {
        piece->iov_base = static_cast<std::byte*>(piece->iov_base) + written;
        piece->iov_len -= written;
      }
    }
    count_ = 0;
    return {};
  }

 private:
  static constexpr std::size_t kMaxPieces = 64;

  const BodyTransfer& t_;
  std::array<iovec, kMaxPieces> pieces_{};
  std::size_t count_ = 0;
  std::uint64_t bytes_ = 0;
};

// Allocates the body's blocks before it arrives, past the end of the file without moving it:
// each page written then lands on a block already there, instead of the file system reserving
// one per page as writes come (measured on ext4: about a fifth less CPU per byte written). Best
// effort: where it is unsupported, or the disk cannot hold it all, the writes go on as before and
// a full disk is their ENOSPC. Not on tmpfs, whose fallocate zeroes pages the writes then fill.
void allocate_ahead(const BodyTransfer& t) {
  if (!t.length || *t.length == 0) return;
  struct statfs fs {};
  if (::fstatfs(t.file, &fs) != 0 || fs.f_type == TMPFS_MAGIC) return;
  (void)::fallocate(t.file, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(t.offset),
                    static_cast<off_t>(*t.length));
}

// A body over TLS: verified records are gathered while the stream has more already received
// (many arrive per system call), then written with one pwritev from where they were opened; a
// chunked body goes through the decoder instead. The session's path decides what the bytes cost.
Result<std::uint64_t> receive_tls(const BodyTransfer& t) {
  const std::string what = "receive body for " + t.file_name;
  TlsStream& stream = *t.tls;
  ChunkedDecoder decoder;
  std::uint64_t received = 0;  // plaintext bytes, chunk framing included
  std::uint64_t written = 0;
  const ChunkedDecoder::Sink sink = file_sink(t, written);
  WriteBatch batch(t);
  const auto flush = [&]() -> Result<void> {
    const std::uint64_t size = batch.size();
    if (auto r = batch.flush(t.offset + written); !r) return r;
    written += size;
    return {};
  };
  if (!t.chunked) allocate_ahead(t);
  std::optional<net::WakeMark> low_water;
  if (t.length && !t.chunked && stream.session().path() == secure::ReadPath::record_layer)
    low_water.emplace(stream.session().fd(), *t.length, kReadBatch);
  StallWatch watch = watch_for(t);
  const auto complete = [&] {
    return t.chunked ? decoder.done() : t.length && written + batch.size() >= *t.length;
  };
  while (!complete()) {
    auto waiting = stream.next_waiting();
    Result<std::span<const std::byte>> data = std::span<const std::byte>{};
    if (!waiting) {
      data = std::unexpected(std::move(waiting.error()));
    } else if (*waiting) {
      data = **waiting;
    } else {
      // The socket must be read, which may move the records gathered so far: write them first.
      if (auto r = flush(); !r) return std::unexpected(r.error());
      // Records carry more than their plaintext and the stream may hold part of one already: the
      // socket surely brings the plaintext left beyond one record.
      if (low_water) low_water->before_read(written + secure::kMaxRecordSize);
      auto ready = stream.wait(std::min(t.timeout, kReadSlice));
      if (!ready) return std::unexpected(std::move(ready.error()).with_context(what));
      if (!*ready) {
        if (low_water) low_water->lower_for_good();
        if (auto r = after_read(t, watch, 0); !r) return std::unexpected(r.error());
        continue;
      }
      data = stream.next();
    }
    if (!data) {
      // The records before a bad one are verified: they land, and nothing of it.
      if (auto r = flush(); !r) return std::unexpected(r.error());
      const std::string expected =
          t.length ? " of " + std::to_string(*t.length) : std::string(" of an unknown length");
      if (data.error().message().find("without close_notify") != std::string::npos) {
        return fail(Errc::closed, what,
                    "truncated body: the server closed the TLS connection without close_notify "
                    "after " +
                        std::to_string(written) + expected + " bytes");
      }
      return std::unexpected(std::move(data.error()).with_context(what));
    }
    if (data->empty()) {
      if (auto r = flush(); !r) return std::unexpected(r.error());
      if (!t.chunked && !t.length) break;  // close_notify ends a body of unknown length
      return fail(Errc::closed, what,
                  "truncated body: the server closed the connection after " +
                      std::to_string(written) +
                      (t.length ? " of " + std::to_string(*t.length) : std::string()) + " bytes");
    }
    received += data->size();
    if (t.chunked) {
      const std::string_view text(reinterpret_cast<const char*>(data->data()), data->size());
      auto used = decoder.feed(text, sink);
      if (!used) return std::unexpected(std::move(used.error()).with_context(t.file_name));
    } else {
      // Bytes past Content-Length are not the body's (Connection: close, so none should come).
      const std::uint64_t room = t.length ? *t.length - written - batch.size() : data->size();
      const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(room, data->size()));
      batch.add(data->first(take));
      // Kept in the stream, so the connection is known not to end where the body does.
      if (take < data->size()) stream.unread(data->size() - take);
      if (batch.full()) {
        if (auto r = flush(); !r) return std::unexpected(r.error());
      }
    }
    if (auto r = after_read(t, watch, data->size()); !r) return std::unexpected(r.error());
  }
  if (auto r = flush(); !r) return std::unexpected(r.error());
  if (t.ledger != nullptr) {
    TransferLedger ledger;
    stream.session().account_read(ledger, received);
    ledger.bytes = written;
    ledger.bytes_copied_kernel += written;  // pwritev: into the page cache
    t.ledger->merge(ledger);
  }
  return written;
}

}  // namespace

Result<std::uint64_t> receive_body(const BodyTransfer& t) {
  if (t.tls != nullptr) return receive_tls(t);
  if (t.chunked) return receive_chunked(t);
  auto mover = net::SocketToFile::create(t.method);
  if (!mover) return std::unexpected(mover.error());
  StallWatch watch = watch_for(t);
  const net::SocketToFile::Hooks hooks{
      .written = [&](std::uint64_t n) { count(t, n); },
      .after_read = [&](std::uint64_t n) { return after_read(t, watch, n); },
  };
  auto moved = mover->receive({.socket = t.socket,
                               .file = t.file,
                               .offset = t.offset,
                               .length = t.length,
                               .name = t.file_name},
                              hooks);
  if (moved) add_copies(t.ledger, mover->ledger());
  return moved;
}

}  // namespace zc::http::detail
