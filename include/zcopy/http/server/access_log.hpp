// zcopy/http/server/access_log.hpp: one line per request in the common log format.
//
//   127.0.0.1 - - [22/Nov/2026:05:40:00 +0000] "GET /a.txt HTTP/1.1" 200 123
//
// Each event loop formats lines into its own buffer (append_line) and hands whole buffers to the
// shared AccessLog, which writes them with one write(2) under a mutex, so lines from different
// loops never interleave. Loops flush at least every quarter second and when they stop.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace zc::http {

// Appends one line to `buffer`. `request_line` may be empty ("-" is logged); quotes, backslashes
// and bytes outside printable ASCII are escaped as \xHH, so a client cannot forge lines.
void append_log_line(std::string& buffer, std::string_view client, std::int64_t epoch_seconds,
                     std::string_view request_line, int status, std::uint64_t body_bytes);

class AccessLog {
 public:
  // `fd` is borrowed and must outlive the log; -1 discards everything.
  explicit AccessLog(int fd = -1) noexcept : fd_(fd) {}

  // Chooses the descriptor; only before any write() (not thread-safe).
  void set_fd(int fd) noexcept { fd_ = fd; }

  // Writes and clears `lines` (whole lines only). Thread-safe.
  void write(std::string& lines);

 private:
  std::mutex mutex_;
  int fd_;  // protected by mutex_ while writing
};

}  // namespace zc::http
