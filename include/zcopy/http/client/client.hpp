// zcopy/http/client/client.hpp: one HTTP/1.1 request, on its own connection or on an idle one
// from a ConnectionPool, up to the end of the head.
//
//   zc::Result<zc::http::ClientResponse> r = zc::http::send_request(url, {.range_from = 4096});
//   r->head.status == 206;
//   // r->socket is positioned at the first byte of the body: nothing of it has been read yet.
//
// The head is read with MSG_PEEK and only its own bytes are consumed, so the whole body is still
// in the socket when this returns and can be spliced from there without passing through user
// memory. The socket is blocking; a send waits at most the timeout, a receive at most a short
// slice (detail::kReadSlice) so that callers can apply the stall rule and see a stop request. The
// whole head must arrive within the timeout: a server that trickles it byte by byte fails too.
//
// An https:// URL is fetched over a secure::Session (certificates checked as `tls` says). TLS
// cannot be peeked at, so the head is read from whole records and the body's first bytes may
// already be in `tls`'s stream; the body is read from there, never from `socket`.
//
// With a pool (RequestOptions::pool) the request leaves the connection open, an idle one is
// reused, and return_connection() gives it back once the body was read to its end.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "zcopy/core/fd.hpp"
#include "zcopy/http/client/connection_pool.hpp"
#include "zcopy/http/client/response.hpp"
#include "zcopy/http/client/tls_stream.hpp"
#include "zcopy/http/client/url.hpp"

namespace zc::http {

struct RequestOptions {
  const char* method = "GET";  // GET or HEAD
  // Asks for bytes [range_from, range_to] (to the end when range_to is empty) with a Range header.
  std::optional<std::uint64_t> range_from;
  std::optional<std::uint64_t> range_to;
  const char* accept = nullptr;  // an Accept header value, e.g. "application/json"
  std::string if_range;          // with a Range: the validator the bytes must still match
  std::string if_none_match;     // an ETag: answer 304 if the file still has it
  std::chrono::milliseconds timeout{30000};
  const std::atomic<bool>* stop = nullptr;  // set (by a signal handler) to give up waiting
  secure::SessionOptions tls{};             // for https:// (its timeout is `timeout`)
  // Keep-alive: reuse an idle connection of this pool and ask the server to keep this one open.
  // Without a pool every request has its own connection ("Connection: close").
  ConnectionPool* pool = nullptr;
};

struct ClientResponse {
  ResponseHead head;
  Fd socket;                       // at the start of the body (plain HTTP)
  std::unique_ptr<TlsStream> tls;  // https: the body is read from here; `socket` is empty
  bool peer_is_loopback = false;
  // Asked with a pool, and the server lets the connection carry another request once this body
  // was read: HTTP/1.1, no "Connection: close", and an end known without a close.
  bool reusable = false;
};

// On a reused connection that the server closed before answering, the request is sent once more
// on a fresh connection.
Result<ClientResponse> send_request(const Url& url, const RequestOptions& options = {});

// Gives `response`'s connection to `pool` when it is reusable. Call only once its body was read
// exactly to its end (or it has none), so the socket holds nothing of it.
void return_connection(ClientResponse&& response, const Url& url, ConnectionPool& pool);

// The request bytes send_request writes (exposed for tests).
std::string format_request(const Url& url, const RequestOptions& options);

}  // namespace zc::http
