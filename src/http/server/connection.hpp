// src/http/server/connection.hpp: one client connection and the response it is being sent.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "zcopy/net/file_to_socket.hpp"

namespace zc::http {

using Clock = std::chrono::steady_clock;

class TlsConnection;  // tls_connection.hpp
struct TlsConnectionDelete {
  void operator()(TlsConnection* tls) const noexcept;
};

// A response in flight: the head (and any small in-memory body) then, optionally, a file range,
// as one transfer for the FileToSocket mover.
struct Response {
  int status = 0;
  net::FileSend transfer;             // head, then the file range
  std::size_t memory_body_bytes = 0;  // the part of the head that is body, for the log
  bool close_after = false;
  std::string request_line;  // for the access log
  std::string path;          // the raw request-target, for the error log
};

struct Connection {
  Fd socket;
  std::string peer;  // address without port, for the log
  std::string in;    // received bytes not yet parsed
  bool writing = false;
  bool peer_closed = false;    // the client shut down its side after its requests
  std::uint32_t interest = 0;  // the epoll events currently registered
  Clock::time_point deadline;
  bool request_started = false;  // part of a request head has arrived
  Clock::time_point request_start;
  Response response;
  // What the mover keeps between turns (pipe, copy buffer, cork), kept across responses.
  net::SocketSendState sending;
  // Set on a TLS server's connections; declared after the socket, which it borrows.
  std::unique_ptr<TlsConnection, TlsConnectionDelete> tls;
  bool handshaking = false;

  // Bytes of the file range still to reach the socket (including those parked in the pipe or the
  // copy buffer).
  std::uint64_t body_remaining() const noexcept {
    return net::remaining(response.transfer, sending);
  }
};

}  // namespace zc::http
