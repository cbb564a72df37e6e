// src/http/connection.hpp: one client connection and the response it is being sent.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "zcopy/core/fd.hpp"

namespace zc::http {

using Clock = std::chrono::steady_clock;

// A response in flight: the head (and any small in-memory body) then, optionally, a file range.
struct Response {
  int status = 0;
  std::string head;  // status line, fields, blank line, and an in-memory body if any
  std::size_t head_sent = 0;
  std::size_t memory_body_bytes = 0;  // the part of `head` that is body, for the log
  Fd file;
  std::uint64_t offset = 0;  // next file byte to read
  std::uint64_t end = 0;     // one past the last file byte to send
  std::uint64_t file_sent = 0;
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

  // Per-connection resources of the body methods, created on first use.
  Fd pipe_read;
  Fd pipe_write;
  std::size_t pipe_capacity = 0;
  std::size_t pipe_bytes = 0;  // spliced into the pipe, not yet into the socket
  std::unique_ptr<char[]> copy_buffer;
  std::size_t copy_begin = 0;
  std::size_t copy_end = 0;
  bool corked = false;  // TCP_CORK is on for the body in flight

  // Bytes of the file range still to reach the socket (including those parked in the pipe or the
  // copy buffer).
  std::uint64_t body_remaining() const noexcept {
    return response.end - response.offset + pipe_bytes + (copy_end - copy_begin);
  }
};

}  // namespace zc::http
