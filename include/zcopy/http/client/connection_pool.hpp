// zcopy/http/client/connection_pool.hpp: idle keep-alive connections, kept for the next request
// to the same origin.
//
//   zc::http::ConnectionPool pool;
//   zc::http::RequestOptions request{.pool = &pool};
//   auto r = zc::http::send_request(url, request);     // reuses an idle connection when it can
//   ... read the whole body ...
//   zc::http::keep_alive(std::move(*r), url, pool);    // back to the pool, if the answer allows
//
// A connection goes back only when its response said it may stay open (HTTP/1.1 without
// "Connection: close") and its body was read exactly to its end, so the next response starts at
// the first byte the socket holds. An idle connection that turned readable meanwhile (the server
// closed it, or sent something unasked) is dropped when taken. A request on a reused connection
// that the server closed before answering is sent once more on a fresh one (send_request).
//
// Not thread-safe: each thread keeps its own pool (every -j worker holds its own connections).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "zcopy/core/fd.hpp"
#include "zcopy/http/client/tls_stream.hpp"
#include "zcopy/http/client/url.hpp"

namespace zc::http {

// One open connection: a plain socket, or a TLS stream over one.
struct ClientConnection {
  Fd socket;                       // plain HTTP; empty over TLS
  std::unique_ptr<TlsStream> tls;  // https
  bool peer_is_loopback = false;
};

class ConnectionPool {
 public:
  // At most `idle_per_origin` idle connections are kept for each scheme, host and port.
  explicit ConnectionPool(std::size_t idle_per_origin = 2) : idle_per_origin_(idle_per_origin) {}

  // An idle connection to `url`'s origin that is still quiet, or nothing.
  std::optional<ClientConnection> take(const Url& url);
  // Keeps `connection` for a later request to `url`'s origin.
  void put(const Url& url, ClientConnection connection);

  // send_request counts here what it did: connections opened, and requests on a reused one.
  void count_opened() noexcept { ++opened_; }
  void count_reused() noexcept { ++reused_; }
  std::uint64_t opened() const noexcept { return opened_; }
  std::uint64_t reused() const noexcept { return reused_; }

 private:
  struct Idle {
    std::string origin;
    ClientConnection connection;
  };
  std::deque<Idle> idle_;  // oldest first
  std::size_t idle_per_origin_;
  std::uint64_t opened_ = 0;
  std::uint64_t reused_ = 0;
};

}  // namespace zc::http
