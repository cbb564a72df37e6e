#include "zcopy/http/client/client.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cstring>
#include <span>

#include "stall_watch.hpp"
#include "zcopy/core/syscall.hpp"
#include "zcopy/net/tcp.hpp"
#include "zcopy/version.hpp"

namespace zc::http {
namespace {

timeval to_timeval(std::chrono::milliseconds t) {
  return {.tv_sec = static_cast<time_t>(t.count() / 1000),
          .tv_usec = static_cast<suseconds_t>((t.count() % 1000) * 1000)};
}

// Sends wait up to the timeout; receives only a slice, so readers can judge progress themselves.
Result<void> set_timeouts(int fd, std::chrono::milliseconds timeout) {
  const timeval send = to_timeval(timeout);
  const timeval receive = to_timeval(std::min(timeout, detail::kReadSlice));
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send, sizeof(send)) != 0 ||
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &receive, sizeof(receive)) != 0) {
    return fail_errno(errno, "setsockopt(fd " + std::to_string(fd) + ", SO_*TIMEO)");
  }
  return {};
}

bool is_loopback_peer(int fd) {
  sockaddr_storage peer{};
  socklen_t length = sizeof(peer);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) != 0) return false;
  if (peer.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&peer);
    return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
  }
  if (peer.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&peer);
    return IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr) != 0 || IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr) != 0;
  }
  return false;
}

std::unexpected<Error> timed_out_or(const Error& error, const std::chrono::milliseconds timeout,
                                    const std::string& what) {
  if (would_block(error.sys_errno())) {
    return fail(Errc::timeout, what,
                "no answer from the server within " + std::to_string(timeout.count()) + " ms");
  }
  return std::unexpected(Error(error).with_context(what));
}

// Fails once the stop flag is set or the head's deadline has passed.
Result<void> may_wait_for_head(const RequestOptions& options,
                               std::chrono::steady_clock::time_point deadline,
                               const std::string& what) {
  if (options.stop != nullptr && options.stop->load(std::memory_order_relaxed)) {
    return fail(Errc::closed, what, "interrupted");
  }
  if (std::chrono::steady_clock::now() >= deadline) {
    return fail(
        Errc::timeout, what,
        "no complete response head within " + std::to_string(options.timeout.count()) + " ms");
  }
  return {};
}

// Reads the head without consuming a byte of the body: peek, and consume only through the blank
// line once it is in sight. The whole head must arrive within the timeout.
Result<ResponseHead> read_head(int fd, const RequestOptions& options, const std::string& what,
                               bool& answered) {
  std::string head;
  std::string peeked(16 * 1024, '\0');
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  for (;;) {
    if (auto r = may_wait_for_head(options, deadline, what); !r) return std::unexpected(r.error());
    auto peek = try_sys_call({"recv(MSG_PEEK)", fd},
                             [&] { return ::recv(fd, peeked.data(), peeked.size(), MSG_PEEK); });
    if (!peek) return timed_out_or(peek.error(), options.timeout, what);
    if (!*peek) continue;  // a receive slice passed
    const auto n = *peek;
    if (*n > 0) answered = true;
    if (*n == 0) {
      return fail(Errc::closed, what,
                  head.empty() ? "the server closed the connection without answering"
                               : "the server closed the connection inside the response head");
    }
    const std::size_t available = static_cast<std::size_t>(*n);
    const std::size_t search_from = head.size() >= 3 ? head.size() - 3 : 0;
    const std::string combined = head + std::string(peeked.data(), available);
    const std::size_t end = combined.find("\r\n\r\n", search_from);
    const std::size_t take = end == std::string::npos ? available : end + 4 - head.size();
    auto got = sys_call({"recv", fd}, [&] { return ::recv(fd, peeked.data(), take, 0); });
    if (!got) return timed_out_or(got.error(), options.timeout, what);
    head.append(peeked.data(), static_cast<std::size_t>(*got));
    auto parsed = parse_response_head(head);
    if (!parsed) return std::unexpected(std::move(parsed.error()).with_context(what));
    if (*parsed) return std::move((*parsed)->head);
  }
}

// The head from a TLS stream: whole records are read, and the bytes past the blank line are given
// back to the stream, where the body starts.
Result<ResponseHead> read_tls_head(TlsStream& stream, const RequestOptions& options,
                                   const std::string& what, bool& answered) {
  std::string head;
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  for (;;) {
    if (auto r = may_wait_for_head(options, deadline, what); !r) return std::unexpected(r.error());
    auto ready = stream.wait(std::min(options.timeout, detail::kReadSlice));
    if (!ready) return std::unexpected(std::move(ready.error()).with_context(what));
    if (!*ready) continue;
    auto data = stream.next();
    if (!data) return std::unexpected(std::move(data.error()).with_context(what));
    if (data->empty()) {
      return fail(Errc::closed, what,
                  head.empty() ? "the server closed the connection without answering"
                               : "the server closed the connection inside the response head");
    }
    answered = true;
    const std::size_t search_from = head.size() >= 3 ? head.size() - 3 : 0;
    const std::size_t before = head.size();
    head.append(reinterpret_cast<const char*>(data->data()), data->size());
    const std::size_t end = head.find("\r\n\r\n", search_from);
    if (end != std::string::npos) {
      const std::size_t used = end + 4 - before;
      stream.unread(data->size() - used);
      head.resize(end + 4);
    }
    auto parsed = parse_response_head(head);
    if (!parsed) return std::unexpected(std::move(parsed.error()).with_context(what));
    if (*parsed) return std::move((*parsed)->head);
    if (end != std::string::npos) {
      return fail(Errc::corrupt, what, "the response head did not parse as complete");
    }
  }
}

Result<ClientConnection> open_connection(const Url& url, const RequestOptions& options,
                                         const std::string& what) {
  auto socket = net::connect_tcp({url.host, url.port}, options.timeout);
  if (!socket) return std::unexpected(std::move(socket.error()).with_context(what));
  ClientConnection connection;
  connection.peer_is_loopback = is_loopback_peer(socket->get());
  if (!url.tls) {
    if (auto r = set_timeouts(socket->get(), options.timeout); !r) {
      return std::unexpected(r.error());
    }
    connection.socket = std::move(*socket);
    return connection;
  }
  secure::SessionOptions tls = options.tls;
  tls.timeout = options.timeout;
  auto session = secure::Session::handshake(std::move(*socket), url.host, tls);
  if (!session) return std::unexpected(std::move(session.error()).with_context(what));
  connection.tls = std::make_unique<TlsStream>(std::move(*session));
  return connection;
}

Result<void> send_all(int fd, const std::string& request, const RequestOptions& options,
                      const std::string& what) {
  std::size_t sent = 0;
  while (sent < request.size()) {
    auto n = sys_call({"send", fd}, [&] {
      return ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    });
    if (!n) return timed_out_or(n.error(), options.timeout, what);
    sent += static_cast<std::size_t>(*n);
  }
  return {};
}

// One request and its response head on `connection`. `answered` tells whether the server sent
// anything back at all: a reused connection it had closed sends nothing.
Result<ClientResponse> exchange(ClientConnection connection, const Url& url,
                                const RequestOptions& options, const std::string& what,
                                bool& answered) {
  const std::string request = format_request(url, options);
  Result<ResponseHead> head = std::unexpected(Error::make(Errc::closed, what, ""));
  if (connection.tls) {
    if (auto r = connection.tls->session().write(std::as_bytes(std::span(request))); !r) {
      return timed_out_or(r.error(), options.timeout, what);
    }
    head = read_tls_head(*connection.tls, options, what, answered);
  } else {
    if (auto r = send_all(connection.socket.get(), request, options, what); !r) {
      return std::unexpected(r.error());
    }
    head = read_head(connection.socket.get(), options, what, answered);
  }
  if (!head) return std::unexpected(head.error());
  ClientResponse response;
  // The connection can carry another request only if the server keeps it open and the body's
  // end is known without waiting for a close.
  response.reusable = options.pool != nullptr && head->version_minor >= 1 &&
                      !head->connection_close &&
                      (head->bodiless() || std::string_view(options.method) == "HEAD" ||
                       (head->content_length.has_value() && !head->chunked));
  response.head = std::move(*head);
  response.peer_is_loopback = connection.peer_is_loopback;
  response.socket = std::move(connection.socket);
  response.tls = std::move(connection.tls);
  return response;
}

// A failure after which the same request may go once more on a fresh connection: the server
// closed an idle connection as we reused it, so nothing was answered and nothing was done.
bool worth_retrying(const Error& error, bool answered, const RequestOptions& options) {
  if (answered || error.code() == Errc::timeout) return false;
  return options.stop == nullptr || !options.stop->load(std::memory_order_relaxed);
}

}  // namespace

std::string format_request(const Url& url, const RequestOptions& options) {
  std::string request = std::string(options.method) + " " + url.target + " HTTP/1.1\r\n";
  request += "Host: " + url.authority() + "\r\n";
  request += "User-Agent: zcopy/" ZCOPY_VERSION_STRING "\r\n";
  request += std::string("Accept: ") + (options.accept ? options.accept : "*/*") + "\r\n";
  if (options.range_from) {
    request += "Range: bytes=" + std::to_string(*options.range_from) + "-";
    if (options.range_to) request += std::to_string(*options.range_to);
    request += "\r\n";
    if (!options.if_range.empty()) request += "If-Range: " + options.if_range + "\r\n";
  }
  if (!options.if_none_match.empty()) {
    request += "If-None-Match: " + options.if_none_match + "\r\n";
  }
  // Bodies must arrive as they are on disk: no content coding, which could not be spliced.
  request += "Accept-Encoding: identity\r\n";
  // HTTP/1.1 keeps a connection open unless told otherwise; without a pool nobody reuses it.
  request += options.pool != nullptr ? "\r\n" : "Connection: close\r\n\r\n";
  return request;
}

Result<ClientResponse> send_request(const Url& url, const RequestOptions& options) {
  const std::string what = std::string(options.method) + " " + url.str();
  if (options.pool != nullptr) {
    if (auto idle = options.pool->take(url)) {
      bool answered = false;
      auto response = exchange(std::move(*idle), url, options, what, answered);
      if (response) {
        options.pool->count_reused();
        return response;
      }
      if (!worth_retrying(response.error(), answered, options)) return response;
    }
  }
  auto connection = open_connection(url, options, what);
  if (!connection) return std::unexpected(connection.error());
  if (options.pool != nullptr) options.pool->count_opened();
  bool answered = false;
  return exchange(std::move(*connection), url, options, what, answered);
}

void return_connection(ClientResponse&& response, const Url& url, ConnectionPool& pool) {
  if (!response.reusable || (response.tls && response.tls->buffered())) return;
  pool.put(url, ClientConnection{.socket = std::move(response.socket),
                                 .tls = std::move(response.tls),
                                 .peer_is_loopback = response.peer_is_loopback});
}

}  // namespace zc::http
