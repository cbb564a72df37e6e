#include "download_body.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "file_hasher.hpp"
#include "part_progress.hpp"
#include "stall_watch.hpp"
#include "zcopy/core/syscall.hpp"
#include "zcopy/http/client/response_chunked.hpp"
#include "zcopy/http/client/tls_stream.hpp"

namespace zc::http::detail {
namespace {

constexpr std::size_t kChunkedBuffer = 256 * 1024;

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

// A body over TLS: each verified record straight from the stream's buffer into the file (or
// through the chunked decoder). The session's path decides what the bytes cost.
Result<std::uint64_t> receive_tls(const BodyTransfer& t) {
  const std::string what = "receive body for " + t.file_name;
  TlsStream& stream = *t.tls;
  ChunkedDecoder decoder;
  std::uint64_t received = 0;  // plaintext bytes, chunk framing included
  std::uint64_t written = 0;
  const ChunkedDecoder::Sink sink = file_sink(t, written);
  StallWatch watch = watch_for(t);
  const auto complete = [&] {
    return t.chunked ? decoder.done() : t.length && written >= *t.length;
  };
  while (!complete()) {
    auto ready = stream.wait(std::min(t.timeout, kReadSlice));
    if (!ready) return std::unexpected(std::move(ready.error()).with_context(what));
    if (!*ready) {
      if (auto r = after_read(t, watch, 0); !r) return std::unexpected(r.error());
      continue;
    }
    auto data = stream.next();
    if (!data) {
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
      if (!t.chunked && !t.length) break;  // close_notify ends a body of unknown length
      return fail(Errc::closed, what,
                  "truncated body: the server closed the connection after " +
                      std::to_string(written) +
                      (t.length ? " of " + std::to_string(*t.length) : std::string()) + " bytes");
    }
    received += data->size();
    const std::string_view text(reinterpret_cast<const char*>(data->data()), data->size());
    if (t.chunked) {
      auto used = decoder.feed(text, sink);
      if (!used) return std::unexpected(std::move(used.error()).with_context(t.file_name));
    } else {
      // Bytes past Content-Length are not the body's (Connection: close, so none should come).
      const std::uint64_t room = t.length ? *t.length - written : text.size();
      const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(room, text.size()));
      if (auto r = sink(text.substr(0, take)); !r) return std::unexpected(r.error());
      // Kept in the stream, so the connection is known not to end where the body does.
      if (take < text.size()) stream.unread(text.size() - take);
    }
    if (auto r = after_read(t, watch, data->size()); !r) return std::unexpected(r.error());
  }
  if (t.ledger != nullptr) {
    TransferLedger ledger;
    stream.session().account_read(ledger, received);
    ledger.bytes = written;
    ledger.bytes_copied_kernel += written;  // pwrite: into the page cache
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
