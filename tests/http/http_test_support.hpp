// tests/http/http_test_support.hpp: what the server tests share: a temporary served tree,
// generated files and their checksums, a bare HTTP client over one socket for what curl would
// normalise away, and running real programs (curl, wget) with their output captured (the
// directories, data and processes are bench/support's).
#pragma once

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bench/support/data.hpp"
#include "bench/support/process.hpp"
#include "support/capability_gate.hpp"
#include "support/child_process.hpp"
#include "zcopy/core/fd.hpp"
#include "zcopy/net/tcp.hpp"

namespace zc::test {

// A directory under /tmp removed with everything in it on destruction.
using bench::TempDir;

// Deterministic pseudo-random bytes (xorshift), so every file differs from its neighbours.
inline std::string generated_bytes(std::size_t size, std::uint64_t seed) {
  return bench::random_bytes(size, seed);
}

inline bool write_file(const std::string& path, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return done == bytes.size();
}

inline std::string read_file(const std::string& path) {
  return bench::read_text(path);
}

// FNV-1a, enough to tell two byte strings apart in a test.
inline std::uint64_t checksum(const std::string& bytes) {
  std::uint64_t h = 1469598103934665603ULL;
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return h;
}

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> fields;  // lower-case names
  std::string body;
  std::string field(const std::string& name) const {
    auto it = fields.find(name);
    return it == fields.end() ? std::string() : it->second;
  }
};

inline bool send_all(int fd, const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// A blocking connection with a receive timeout, and a reader of one response at a time (the
// buffer keeps bytes of the next pipelined response).
class RawClient {
 public:
  explicit RawClient(std::uint16_t port, std::chrono::seconds timeout = std::chrono::seconds(10)) {
    auto fd = net::connect_tcp({"127.0.0.1", port}, std::chrono::seconds(5));
    if (fd) socket_ = std::move(*fd);
    timeval tv{.tv_sec = timeout.count(), .tv_usec = 0};
    if (socket_) ::setsockopt(socket_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  bool connected() const { return socket_.valid(); }
  int fd() const { return socket_.get(); }
  bool send(const std::string& bytes) { return send_all(socket_.get(), bytes); }

  // The next response; `head_request` when it answers HEAD (no body follows).
  std::optional<HttpResponse> read_response(bool head_request = false) {
    std::size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return std::nullopt;
    }
    HttpResponse r;
    const std::string head = buffer_.substr(0, end + 2);
    buffer_.erase(0, end + 4);
    if (head.size() < 12) return std::nullopt;
    r.status = std::atoi(head.c_str() + 9);
    std::size_t pos = head.find("\r\n") + 2;
    while (pos < head.size()) {
      const std::size_t eol = head.find("\r\n", pos);
      const std::string line = head.substr(pos, eol - pos);
      pos = eol + 2;
      const std::size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      std::size_t v = colon + 1;
      while (v < line.size() && line[v] == ' ') ++v;
      r.fields[name] = line.substr(v);
    }
    const std::size_t length =
        head_request || r.status == 304
            ? 0
            : static_cast<std::size_t>(std::atoll(r.field("content-length").c_str()));
    while (buffer_.size() < length) {
      if (!fill()) return std::nullopt;
    }
    r.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return r;
  }

  // True when the server closed the connection (EOF) within the receive timeout.
  bool closed_by_server() {
    for (;;) {
      char c[4096];
      const ssize_t n = ::recv(socket_.get(), c, sizeof c, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }

 private:
  bool fill() {
    char chunk[65536];
    ssize_t n;
    do {
      n = ::recv(socket_.get(), chunk, sizeof chunk, 0);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }
  Fd socket_;
  std::string buffer_;
};

// One request on a fresh connection.
inline std::optional<HttpResponse> fetch(std::uint16_t port, const std::string& request,
                                         bool head_request = false) {
  RawClient client(port);
  if (!client.connected() || !client.send(request)) return std::nullopt;
  return client.read_response(head_request);
}

struct ProgramResult {
  int exit_code = -1;
  std::string out;  // stdout and stderr together
};

// Runs `argv` to completion with stdout and stderr captured.
inline ProgramResult run_program(const std::vector<std::string>& argv) {
  bench::RunResult run = bench::run(argv);
  return {run.exit_code, std::move(run.output)};
}

inline bool have_program(const std::string& name) {
  return bench::have_program(name);
}

}  // namespace zc::test
