#include "zcopy/http/client/tls_stream.hpp"

#include <poll.h>

#include <algorithm>

#include "zcopy/core/syscall.hpp"

namespace zc::http {

TlsStream::TlsStream(secure::Session session) : session_(std::move(session)) {}

std::optional<std::span<const std::byte>> TlsStream::take_pending() noexcept {
  if (pending_ == 0) return std::nullopt;
  const auto rest = last_.last(pending_);
  pending_ = 0;
  return rest;
}

Result<std::span<const std::byte>> TlsStream::next() {
  if (auto rest = take_pending()) return *rest;
  auto data = session_.read();
  if (!data) return std::unexpected(data.error());
  last_ = *data;
  return last_;
}

Result<std::optional<std::span<const std::byte>>> TlsStream::next_waiting() {
  if (auto rest = take_pending()) return rest;
  auto data = session_.read_waiting();
  if (!data) return std::unexpected(data.error());
  if (*data) last_ = **data;
  return data;
}

void TlsStream::unread(std::size_t count) noexcept {
  pending_ = std::min(count, last_.size());
}

Result<bool> TlsStream::wait(std::chrono::milliseconds slice) {
  if (pending_ > 0 || session_.record_waiting()) return true;
  pollfd p{.fd = session_.fd(), .events = POLLIN, .revents = 0};
  auto ready =
      sys_call({"poll", p.fd}, [&] { return ::poll(&p, 1, static_cast<int>(slice.count())); });
  if (!ready) return std::unexpected(ready.error());
  return *ready > 0;
}

}  // namespace zc::http
