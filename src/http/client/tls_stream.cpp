#include "zcopy/http/client/tls_stream.hpp"

#include <poll.h>

#include <algorithm>

#include "zcopy/core/syscall.hpp"

namespace zc::http {

TlsStream::TlsStream(secure::Session session)
    : session_(std::move(session)), buffer_(secure::Session::kReadRoom) {}

Result<std::span<const std::byte>> TlsStream::next() {
  if (pending_ > 0) {
    const auto rest = last_.last(pending_);
    pending_ = 0;
    return rest;
  }
  auto data = session_.read(buffer_);
  if (!data) return std::unexpected(data.error());
  last_ = *data;
  return last_;
}

void TlsStream::unread(std::size_t count) noexcept {
  pending_ = std::min(count, last_.size());
}

Result<bool> TlsStream::wait(std::chrono::milliseconds slice) {
  if (pending_ > 0) return true;
  pollfd p{.fd = session_.fd(), .events = POLLIN, .revents = 0};
  auto ready =
      sys_call({"poll", p.fd}, [&] { return ::poll(&p, 1, static_cast<int>(slice.count())); });
  if (!ready) return std::unexpected(ready.error());
  return *ready > 0;
}

}  // namespace zc::http
