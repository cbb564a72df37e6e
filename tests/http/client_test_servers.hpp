// tests/http/client_test_servers.hpp: real HTTP servers for the client tests, and their cleanup.
//
// nginx (Debian's, run as root with daemon off, its pid, logs and temp files in the test's own
// directory, sendfile on) and `python3 -m http.server`, each on a free loopback port and in its own
// process group, killed with the group when the handle goes away (bench/support/peer_server.hpp).
// Plus a one-shot raw TCP server for answers no real server gives on purpose (a truncated body, a
// hand-made chunked body).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/support/data.hpp"
#include "bench/support/peer_server.hpp"
#include "support/child_process.hpp"
#include "zcopy/net/tcp.hpp"

namespace zc::test {

using bench::free_port;
using bench::TempDir;

inline bool wait_for_port(std::uint16_t port, std::chrono::milliseconds limit) {
  return bench::wait_listening("127.0.0.1", port, limit);
}

// A server process in its own process group; the whole group dies with this handle. Not
// running() when it did not start.
using ServerProcess = bench::PeerServer;

// nginx serving `root` on a free port (or `port`); `extra` is added inside the server block.
inline ServerProcess start_nginx(const std::string& dir, const std::string& root,
                                 const std::string& extra = {}, std::uint16_t port = 0) {
  auto nginx = bench::start_nginx({.dir = dir,
                                   .root = root,
                                   .port = port,
                                   .access_log = dir + "/nginx-access.log",
                                   .server_extra = extra});
  return nginx ? std::move(*nginx) : ServerProcess{};
}

// `python3 script args...` (or `python3 -m http.server`) on a free port given as the last arg.
inline ServerProcess start_python(const std::string& dir, std::vector<std::string> argv) {
  const std::uint16_t port = free_port();
  argv.insert(argv.begin(), "python3");
  argv.push_back(std::to_string(port));
  auto server = bench::PeerServer::start(argv, "127.0.0.1", port, dir + "/python.log", "python3");
  return server ? std::move(*server) : ServerProcess{};
}

inline void write_random_file(const std::string& path, std::size_t size, std::uint64_t seed) {
  (void)bench::write_random_file(path, size, {.seed = seed});
}

inline std::string read_file(const std::string& path) {
  return bench::read_text(path);
}

inline bool exists(const std::string& path) {
  return std::filesystem::exists(std::filesystem::symlink_status(path));
}

// Accepts one connection on a free loopback port, reads the request head, sends `answer` and
// closes: for responses no well-behaved server sends.
class OneShotServer {
 public:
  explicit OneShotServer(std::string answer) {
    auto socket = net::listen_tcp(net::Endpoint{"127.0.0.1", 0}, {.nonblocking = false});
    if (!socket) return;
    port_ = net::local_address(socket->get())->port();
    // accept() gives up after 10 s, so a test that never connects cannot hang in the destructor.
    timeval limit{.tv_sec = 10, .tv_usec = 0};
    ::setsockopt(socket->get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
    thread_ = std::thread([listener = std::move(*socket), answer = std::move(answer)] {
      Fd peer = Fd::adopt(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!peer) return;
      std::string request;
      char buffer[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(peer.get(), buffer, sizeof(buffer), 0);
        if (n <= 0) return;
        request.append(buffer, static_cast<std::size_t>(n));
      }
      (void)::send(peer.get(), answer.data(), answer.size(), MSG_NOSIGNAL);
    });
  }
  ~OneShotServer() {
    if (thread_.joinable()) thread_.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace zc::test
