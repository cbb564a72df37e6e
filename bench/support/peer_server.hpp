// bench/support/peer_server.hpp: real servers to measure against or to test with: any server
// program started on a free port and waited for until it listens, and nginx configured in a
// directory of its own (config, pid, logs and temp files), run in the foreground as root.
//
//   auto nginx = zc::bench::start_nginx({.dir = work, .root = www, .workers = 2});
//   if (!nginx) return std::unexpected(nginx.error());
//   curl(nginx->url("/big.bin"));
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bench/support/process.hpp"
#include "zcopy/core/error.hpp"

namespace zc::bench {

// A port nothing listens on right now on `host` (the kernel's pick, released again); 0 on failure.
std::uint16_t free_port(const std::string& host = "127.0.0.1");
// True once a TCP connection to host:port succeeds within `limit`.
bool wait_listening(const std::string& host, std::uint16_t port, std::chrono::milliseconds limit);

// A server program in a process group of its own, listening on host:port; the whole group dies
// with the handle (or with kill_now()), and the server with the thread that started it, so a test
// or a bench that crashes leaves no server behind.
class PeerServer {
 public:
  // Starts argv (its output appended to `log`), then waits up to 10 s until host:port accepts.
  // `what` names the server in errors.
  static Result<PeerServer> start(const std::vector<std::string>& argv, const std::string& host,
                                  std::uint16_t port, const std::string& log, std::string_view what,
                                  int cpu = -1);
  PeerServer() = default;

  bool running() const noexcept { return process_.running(); }
  pid_t pid() const noexcept { return process_.pid(); }
  const std::string& host() const noexcept { return host_; }
  std::uint16_t port() const noexcept { return port_; }
  // "http://HOST:PORT" + path.
  std::string url(std::string_view path = "/") const;
  // SIGKILL to the group, then reap.
  void kill_now() noexcept { process_.kill(); }

 private:
  Process process_;
  std::string host_;
  std::uint16_t port_ = 0;
};

// nginx (Debian's) serving `root`: daemon off, a master and `workers` workers, sendfile on.
struct NginxConfig {
  std::string dir{};   // its config, pid file, logs and temp files go here
  std::string root{};  // the served directory
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: a free one
  int workers = 1;
  int worker_connections = 64;
  std::string access_log{};    // the access_log directive's arguments; empty: off
  std::string http_extra{};    // more directives at the top of http {} (log_format goes here)
  std::string server_extra{};  // more directives inside server {}
  std::string listen_extra{};  // words after the listen address ("ssl")
  std::string main_extra{};    // more directives at the top level (worker_rlimit_nofile)
  std::vector<std::string> exec_prefix{};  // runs nginx through this (ip netns exec NS)
  int cpu = -1;                            // pins the master and so its workers
};
// Fails with capability_missing when nginx is not installed, with its error log when it exits.
Result<PeerServer> start_nginx(const NginxConfig& config);

}  // namespace zc::bench
