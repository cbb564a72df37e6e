// A bare NATS client on a socket for the NATS bridge's tests: the text protocol, so that the bridge
// is checked against a peer that is not libnats, and so that tests reach server APIs (JetStream's
// $JS.API requests) the bridge does not offer.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <optional>
#include <string>

#include "zcopy/core/fd.hpp"

namespace zc::test {

// A bare NATS client on a socket: enough protocol to publish with headers and read HMSG.
class TextClient {
 public:
  explicit TextClient(Fd fd) : fd_(std::move(fd)) {}

  bool send(const std::string& text) {
    return ::send(fd_.get(), text.data(), text.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(text.size());
  }
  // The next line without its CRLF; nullopt after 10 s without one (a broken peer).
  std::optional<std::string> line() {
    for (;;) {
      if (const auto end = buffer_.find("\r\n"); end != std::string::npos) {
        std::string out = buffer_.substr(0, end);
        buffer_.erase(0, end + 2);
        return out;
      }
      if (!fill()) return std::nullopt;
    }
  }
  std::optional<std::string> bytes(std::size_t n) {
    while (buffer_.size() < n) {
      if (!fill()) return std::nullopt;
    }
    std::string out = buffer_.substr(0, n);
    buffer_.erase(0, n);
    return out;
  }

 private:
  bool fill() {
    pollfd p{.fd = fd_.get(), .events = POLLIN, .revents = 0};
    if (::poll(&p, 1, 10'000) <= 0) return false;
    char chunk[65536];
    const ssize_t n = ::recv(fd_.get(), chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }
  Fd fd_;
  std::string buffer_;
};

}  // namespace zc::test
