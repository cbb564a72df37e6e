// A bare NATS client on a socket for the NATS bridge's tests: the text protocol, so that the bridge
// is checked against a peer that is not libnats, and so that tests reach server APIs (JetStream's
// $JS.API requests) the bridge does not offer.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "zcopy/core/fd.hpp"
#include "zcopy/net/tcp.hpp"

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

// A client of the server on 127.0.0.1:`port` that has read its INFO line; nullopt, with `why`,
// when it cannot connect or the peer does not greet as NATS does.
inline std::optional<TextClient> text_client_to(std::uint16_t port, std::string& why) {
  auto socket = net::connect_tcp({"127.0.0.1", port}, std::chrono::seconds(5));
  if (!socket) {
    why = socket.error().message();
    return std::nullopt;
  }
  TextClient client(std::move(*socket));
  auto info = client.line();
  if (!info || !info->starts_with("INFO ")) {
    why = "no INFO but: " + info.value_or("(nothing)");
    return std::nullopt;
  }
  return client;
}

// The JetStream API's answer to `request` ("CONSUMER.INFO.STREAM.NAME", "STREAM.INFO.STREAM") with
// `body` from the server on `port`; what went wrong instead when there is none.
inline std::string jetstream_api(std::uint16_t port, const std::string& request,
                                 const std::string& body = "") {
  std::string why;
  auto client = text_client_to(port, why);
  if (!client) return why;
  client->send("CONNECT {\"verbose\":false,\"protocol\":1}\r\nSUB api 1\r\nPUB $JS.API." + request +
               " api " + std::to_string(body.size()) + "\r\n" + body + "\r\n");
  (void)client->line();  // MSG api 1 N
  return client->line().value_or("(no answer)");
}

}  // namespace zc::test
