#include "event_loop.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "respond.hpp"
#include "tls_connection.hpp"
#include "zcopy/core/syscall.hpp"
#include "zcopy/http/http_date.hpp"
#include "zcopy/http/server/request_parser.hpp"
#include "zcopy/net/endpoint.hpp"

namespace zc::http {
namespace {

constexpr auto kSweepInterval = std::chrono::milliseconds(250);
constexpr std::size_t kReadChunk = 16 * 1024;
constexpr char k503[] =
    "HTTP/1.1 503 Service Unavailable\r\nServer: zcopy\r\nConnection: close\r\n"
    "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 24\r\n\r\n"
    "503 Service Unavailable\n";

std::string host_of(const sockaddr_storage& address, socklen_t length) {
  const std::string text =
      net::SocketAddress::from(reinterpret_cast<const sockaddr*>(&address), length).str();
  // "1.2.3.4:80" or "[::1]:80" -> the host part.
  const std::size_t colon = text.rfind(':');
  std::string host = colon == std::string::npos ? text : text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return host;
}

}  // namespace

Result<std::unique_ptr<EventLoop>> EventLoop::create(SharedState& shared, Fd listener) {
  std::unique_ptr<EventLoop> loop(new EventLoop(shared, std::move(listener)));
  auto ep = sys_call("epoll_create1", [] { return ::epoll_create1(EPOLL_CLOEXEC); });
  if (!ep) return std::unexpected(ep.error());
  loop->epoll_ = Fd::adopt(*ep);
  auto ev = sys_call("eventfd", [] { return ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); });
  if (!ev) return std::unexpected(ev.error());
  loop->wake_ = Fd::adopt(*ev);
  for (const int fd : {loop->listener_.get(), loop->wake_.get()}) {
    epoll_event e{.events = EPOLLIN, .data = {.fd = fd}};
    if (auto rc = sys_call({"epoll_ctl(ADD)", fd},
                           [&] { return ::epoll_ctl(loop->epoll_.get(), EPOLL_CTL_ADD, fd, &e); });
        !rc)
      return std::unexpected(rc.error());
  }
  auto sender = BodySender::create(shared.method, shared.options.chunk_bytes, shared.ledger);
  if (!sender) return std::unexpected(sender.error());
  loop->sender_.emplace(std::move(*sender));
  return loop;
}

void EventLoop::stop() noexcept {
  const std::uint64_t one = 1;
  // A full counter still wakes the loop, so the result needs no handling.
  [[maybe_unused]] const ssize_t n = ::write(wake_.get(), &one, sizeof one);
}

void EventLoop::run() {
  // sendfile and splice into a reset socket raise SIGPIPE at this thread; blocked, it stays a
  // pending no-op and the call fails with EPIPE, which closes just that connection.
  sigset_t pipe_signal;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
  epoll_event events[256];
  auto last_sweep = Clock::now();
  bool stopping = false;
  while (!stopping) {
    const int n = ::epoll_wait(epoll_.get(), events, 256, static_cast<int>(kSweepInterval.count()));
    if (n < 0 && errno != EINTR) {
      shared_.log_error("zcopy serve: epoll_wait failed: " + std::string(std::strerror(errno)));
      break;
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_.get()) {
        stopping = true;
      } else if (fd == listener_.get()) {
        accept_all();
      } else if (auto it = connections_.find(fd); it != connections_.end()) {
        handle(*it->second, events[i].events);
      }
    }
    const auto now = Clock::now();
    if (now - last_sweep >= kSweepInterval) {
      last_sweep = now;
      sweep(now);
    }
    if (log_buffer_.size() >= 32 * 1024) shared_.access_log.write(log_buffer_);
  }
  while (!connections_.empty()) close(*connections_.begin()->second, false);
  shared_.access_log.write(log_buffer_);
}

void EventLoop::accept_all() {
  for (int accepted = 0; accepted < 64; ++accepted) {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    const int fd = ::accept4(listener_.get(), reinterpret_cast<sockaddr*>(&address), &length,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Level-triggered: a listener we cannot serve would spin the loop. Rest until the sweep.
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, listener_.get(), nullptr);
        listener_paused_ = true;
        shared_.log_error("zcopy serve: accept paused: " + std::string(std::strerror(errno)));
      }
      return;  // EAGAIN, or a connection that died in the backlog
    }
    Fd socket = Fd::adopt(fd);
    shared_.accepted.fetch_add(1, std::memory_order_relaxed);
    const std::string peer = host_of(address, length);
    if (shared_.open_connections.load(std::memory_order_relaxed) >=
        shared_.options.max_connections) {
      shared_.rejected.fetch_add(1, std::memory_order_relaxed);
      [[maybe_unused]] const ssize_t n =
          ::send(fd, k503, sizeof k503 - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      append_log_line(log_buffer_, peer, static_cast<std::int64_t>(std::time(nullptr)), "", 503,
                      24);
      continue;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto c = std::make_unique<Connection>();
    c->socket = std::move(socket);
    c->peer = peer;
    c->deadline = Clock::now() + shared_.options.idle_timeout;
    if (shared_.tls) {
      auto tls = TlsConnection::accept(*shared_.tls, fd);
      if (!tls) {
        shared_.log_error("zcopy serve: TLS for " + peer + ": " + tls.error().message());
        continue;
      }
      c->tls = std::move(*tls);
      c->handshaking = true;
      // The handshake is part of the head: a client trickling it gets the header timeout.
      c->deadline = Clock::now() + shared_.options.header_timeout;
    }
    c->interest = EPOLLIN | EPOLLRDHUP;
    epoll_event e{.events = c->interest, .data = {.fd = fd}};
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &e) != 0) continue;
    shared_.open_connections.fetch_add(1, std::memory_order_relaxed);
    connections_.emplace(fd, std::move(c));
  }
}

void EventLoop::handle(Connection& c, std::uint32_t events) {
  if (c.handshaking) {
    advance_handshake(c);
    return;
  }
  if (c.writing) {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && continue_send(c) && !c.writing)
      serve_buffered(c);  // a pipelined request may be waiting
    return;
  }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) read_requests(c);
}

bool EventLoop::watch(Connection& c, std::uint32_t events) {
  if (c.interest == events) return true;
  epoll_event e{.events = events, .data = {.fd = c.socket.get()}};
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, c.socket.get(), &e) != 0) {
    close(c, false);
    return false;
  }
  c.interest = events;
  return true;
}

bool EventLoop::advance_handshake(Connection& c) {
  auto step = c.tls->handshake();
  if (!step) {
    // A client that gives up is routine; one that fails the handshake is worth a line.
    if (step.error().code() != Errc::closed)
      shared_.log_error("zcopy serve: TLS handshake with " + c.peer + ": " +
                        step.error().message());
    close(c, false);
    return false;
  }
  switch (*step) {
    case secure::HandshakeStep::want_read:
      return watch(c, EPOLLIN | EPOLLRDHUP);
    case secure::HandshakeStep::want_write:
      return watch(c, EPOLLOUT);
    case secure::HandshakeStep::not_tls:
      // Plain HTTP on the TLS port: nothing it could read, so no answer; FIN, not a reset.
      close(c, true);
      return false;
    case secure::HandshakeStep::done:
      break;
  }
  c.handshaking = false;
  c.deadline = Clock::now() + shared_.options.idle_timeout;
  if (!watch(c, EPOLLIN | EPOLLRDHUP)) return false;
  return read_requests(c);  // the first request may already be in the socket
}

bool EventLoop::read_requests(Connection& c) {
  // Never hold more than one head's worth; the parser answers 431 beyond it.
  const std::size_t limit = shared_.options.max_head_bytes + kReadChunk;
  if (c.tls) {
    auto open = c.tls->read_into(c.in, limit);
    if (!open) {
      shared_.log_error("zcopy serve: TLS from " + c.peer + ": " + open.error().message());
      close(c, false);
      return false;
    }
    if (!*open) {
      if (c.in.empty()) {
        close(c, true);
        return false;
      }
      c.peer_closed = true;
    }
    return serve_buffered(c);
  }
  char chunk[kReadChunk];
  while (c.in.size() < limit) {
    const ssize_t n = ::recv(c.socket.get(), chunk, sizeof chunk, 0);
    if (n == 0) {
      // The client half-closed: answer what it sent, then close.
      if (c.in.empty()) {
        close(c, false);
        return false;
      }
      c.peer_closed = true;
      break;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      close(c, false);
      return false;
    }
    c.in.append(chunk, static_cast<std::size_t>(n));
    // Level-triggered: a short read means the socket is drained for now.
    if (static_cast<std::size_t>(n) < sizeof chunk) break;
  }
  return serve_buffered(c);
}

bool EventLoop::serve_buffered(Connection& c) {
  for (;;) {
    const auto now = Clock::now();
    if (c.in.empty() && c.peer_closed) {
      close(c, true);
      return false;
    }
    if (c.in.empty()) {
      c.request_started = false;
      c.deadline = now + shared_.options.idle_timeout;
      return watch(c, EPOLLIN | EPOLLRDHUP);
    }
    Request request;
    ParseResult parsed = parse_request(c.in, shared_.options.max_head_bytes, request);
    // The parser promises as much; a head left incomplete in a full buffer would keep EPOLLIN
    // ready with nothing read, spinning the loop until the header timeout.
    if (parsed.status == ParseStatus::incomplete && c.in.size() > shared_.options.max_head_bytes)
      parsed = {ParseStatus::too_large, 0, "head size"};
    c.response = Response{};
    if (parsed.status == ParseStatus::incomplete) {
      if (c.peer_closed) {
        close(c, false);
        return false;
      }
      if (!c.request_started) {
        c.request_started = true;
        c.request_start = now;
      }
      // Trickled bytes do not extend this deadline: that is the slowloris defence.
      c.deadline = c.request_start + shared_.options.header_timeout;
      return watch(c, EPOLLIN | EPOLLRDHUP);
    }
    if (parsed.status == ParseStatus::complete) {
      c.in.erase(0, parsed.consumed);
      build_response(request, shared_, date_field(), c.response);
    } else {
      c.in.clear();
      build_error(parsed.status == ParseStatus::too_large ? 431 : 400, false, true, date_field(),
                  c.response);
    }
    c.request_started = false;
    shared_.requests.fetch_add(1, std::memory_order_relaxed);
    c.writing = true;
    if (!continue_send(c)) return false;
    if (c.writing) return true;  // waiting for EPOLLOUT; the rest of `in` waits too
  }
}

bool EventLoop::continue_send(Connection& c) {
  const auto turn =
      c.tls ? c.tls->send(c, shared_.ledger, shared_.options.chunk_bytes) : sender_->send(c);
  if (!turn) {
    // A client that hangs up mid-body is routine; anything else is worth a line.
    const int error = turn.error().sys_errno();
    if (error != EPIPE && error != ECONNRESET) {
      shared_.log_error("zcopy serve: " + c.response.path + " to " + c.peer + ": " +
                        turn.error().message());
    }
    log(c);
    close(c, false);
    return false;
  }
  switch (*turn) {
    case net::SendTurn::done:
      return finish_response(c);
    case net::SendTurn::blocked:
      c.deadline = Clock::now() + shared_.options.idle_timeout;
      // Every TLS slot in flight: wait for the notification on the error queue, which epoll
      // reports whatever the interest, not for room the slots could not use.
      return watch(c, c.tls && c.tls->waiting_for_completions() ? 0U : std::uint32_t{EPOLLOUT});
    case net::SendTurn::truncated:
      break;
  }
  const std::uint64_t sent = c.response.transfer.file_sent;
  shared_.truncated.fetch_add(1, std::memory_order_relaxed);
  shared_.log_error("zcopy serve: " + c.response.path + " shrank while being sent to " + c.peer +
                    " (" + std::to_string(sent) + " of " +
                    std::to_string(sent + c.body_remaining()) + " bytes sent); connection closed");
  log(c);
  close(c, false);
  return false;
}

bool EventLoop::finish_response(Connection& c) {
  log(c);
  c.writing = false;
  const bool close_after = c.response.close_after;
  c.response = Response{};
  if (close_after) {
    close(c, true);
    return false;
  }
  return true;
}

void EventLoop::log(const Connection& c) {
  const Response& r = c.response;
  append_log_line(log_buffer_, c.peer, static_cast<std::int64_t>(std::time(nullptr)),
                  r.request_line, r.status, r.memory_body_bytes + r.transfer.file_sent);
}

void EventLoop::close(Connection& c, bool graceful) {
  const int fd = c.socket.get();
  if (c.tls) c.tls->close(graceful);
  if (graceful) {
    // Send FIN first and drop what the client already sent, so the kernel does not answer
    // unread data with a reset that could destroy the response in flight.
    ::shutdown(fd, SHUT_WR);
    char sink[4096];
    while (::recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0) {
    }
  }
  shared_.open_connections.fetch_sub(1, std::memory_order_relaxed);
  connections_.erase(fd);  // closes the socket, which also leaves the epoll set
}

void EventLoop::sweep(Clock::time_point now) {
  for (auto it = connections_.begin(); it != connections_.end();) {
    Connection& c = *it->second;
    ++it;  // close() erases the current element
    if (c.deadline <= now) {
      shared_.timeouts.fetch_add(1, std::memory_order_relaxed);
      if (c.writing) log(c);
      close(c, false);
    }
  }
  if (listener_paused_) {
    epoll_event e{.events = EPOLLIN, .data = {.fd = listener_.get()}};
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, listener_.get(), &e) == 0)
      listener_paused_ = false;
  }
  shared_.access_log.write(log_buffer_);
}

const std::string& EventLoop::date_field() {
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  if (now != date_second_) {
    date_second_ = now;
    date_field_ = "Date: " + format_http_date(now) + "\r\n";
  }
  return date_field_;
}

}  // namespace zc::http
