// src/http/server/event_loop.hpp: one thread's epoll loop: its own listener of the server's group,
// its connections, its body sender and its access-log buffer. run() on one thread; stop() from any.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "body_sender.hpp"
#include "connection.hpp"
#include "server_state.hpp"

namespace zc::http {

class EventLoop {
 public:
  static Result<std::unique_ptr<EventLoop>> create(SharedState& shared, Fd listener);

  void run();
  // Wakes the loop and makes run() return after closing every connection. Thread-safe.
  void stop() noexcept;

 private:
  EventLoop(SharedState& shared, Fd listener) : shared_(shared), listener_(std::move(listener)) {}

  void accept_all();
  void handle(Connection& c, std::uint32_t events);
  // Each returns false when it closed (and destroyed) the connection.
  bool advance_handshake(Connection& c);
  bool read_requests(Connection& c);
  bool serve_buffered(Connection& c);
  bool continue_send(Connection& c);
  bool finish_response(Connection& c);
  bool watch(Connection& c, std::uint32_t events);
  void close(Connection& c, bool graceful);
  void sweep(Clock::time_point now);
  const std::string& date_field();
  void log(const Connection& c);

  SharedState& shared_;
  Fd listener_;
  bool listener_paused_ = false;  // out of descriptors: accept again at the next sweep
  Fd epoll_;
  Fd wake_;
  std::optional<BodySender> sender_;
  std::unordered_map<int, std::unique_ptr<Connection>> connections_;
  std::string log_buffer_;
  std::int64_t date_second_ = -1;
  std::string date_field_;
};

}  // namespace zc::http
