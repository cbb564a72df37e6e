// zcopy/http/client/tls_stream.hpp: an https response read through a secure::Session.
//
// A TLS stream cannot be peeked at, so the head is read from whole records and what follows it
// in the last record stays here: `next()` hands those bytes out first, then each following
// record, opened in place in the session's buffer, where records are read ahead. The bytes
// `next()` returns stay valid until the next call of next(); `next_waiting()` hands out records
// already received without invalidating earlier ones, so a body can be written in big pieces.
//
//   TlsStream stream(std::move(*session));
//   auto data = stream.next();     // verified bytes, or empty after close_notify
//   stream.unread(data->size() - used);  // the next call returns the rest again
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>

#include "zcopy/core/error.hpp"
#include "zcopy/secure/session.hpp"

namespace zc::http {

class TlsStream {
 public:
  explicit TlsStream(secure::Session session);

  // The next verified bytes; empty once the server closed with close_notify. A close without
  // it is an error whose text says "without close_notify".
  Result<std::span<const std::byte>> next();
  // As next(), from bytes already received only: std::nullopt when the socket must be read.
  // Views from earlier calls stay valid.
  Result<std::optional<std::span<const std::byte>>> next_waiting();
  // Gives back the last `count` bytes of what next() returned: the next call returns them.
  void unread(std::size_t count) noexcept;
  // Waits up to `slice` for something to read (at once when a record is already received);
  // false when nothing came.
  Result<bool> wait(std::chrono::milliseconds slice);
  // Whether bytes given back by unread() wait to be read.
  bool buffered() const noexcept { return pending_ > 0; }

  secure::Session& session() noexcept { return session_; }
  const secure::Session& session() const noexcept { return session_; }

 private:
  std::optional<std::span<const std::byte>> take_pending() noexcept;

  secure::Session session_;
  std::span<const std::byte> last_;
  std::size_t pending_ = 0;  // bytes at the end of last_ handed back by unread()
};

}  // namespace zc::http
