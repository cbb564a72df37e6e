// tests/http/client_test_servers.hpp: real HTTP servers for the client tests, and their cleanup.
//
// nginx (Debian's, run as root with daemon off, its pid, logs and temp files in the test's own
// directory, sendfile on) and `python3 -m http.server`, each on a free loopback port and in its own
// process group, killed with the group when the handle goes away. Plus a one-shot raw TCP server
// for answers no real server gives on purpose (a truncated body, a hand-made chunked body).
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

#include "support/child_process.hpp"
#include "zcopy/net/tcp.hpp"

namespace zc::test {

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/zcopy-get-test-XXXXXX";
    path_ = ::mkdtemp(pattern) != nullptr ? pattern : "";
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A port nothing listens on right now (the kernel's choice, released again).
inline std::uint16_t free_port() {
  auto socket = net::listen_tcp(net::Endpoint{"127.0.0.1", 0});
  return socket ? net::local_address(socket->get())->port() : 0;
}

inline bool wait_for_port(std::uint16_t port, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (net::connect_tcp({"127.0.0.1", port}, std::chrono::milliseconds(200))) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// A server process in its own process group; the whole group dies with this handle.
class ServerProcess {
 public:
  ServerProcess() = default;
  ServerProcess(pid_t pid, std::uint16_t port) : pid_(pid), port_(port) {}
  ServerProcess(ServerProcess&& other) noexcept
      : pid_(std::exchange(other.pid_, -1)), port_(other.port_) {}
  ServerProcess& operator=(ServerProcess&& other) noexcept {
    if (this != &other) {
      kill_now();
      pid_ = std::exchange(other.pid_, -1);
      port_ = other.port_;
    }
    return *this;
  }
  ~ServerProcess() { kill_now(); }

  void kill_now() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    reap(pid_);
    pid_ = -1;
  }
  bool running() const { return pid_ > 0; }
  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

// Runs argv in a new process group with stdout and stderr sent to `log`.
inline pid_t spawn_server(std::vector<std::string> argv, const std::string& log) {
  return spawn([argv = std::move(argv), log]() -> int {
    ::setpgid(0, 0);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
    }
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    return 127;
  });
}

inline ServerProcess await_server(pid_t pid, std::uint16_t port) {
  if (pid <= 0) return {};
  ::setpgid(pid, pid);
  ServerProcess server(pid, port);
  if (!wait_for_port(port, std::chrono::seconds(10))) server.kill_now();
  return server;
}

// nginx serving `root` on a free port; `extra` is added inside the server block.
inline ServerProcess start_nginx(const std::string& dir, const std::string& root,
                                 const std::string& extra = {}, std::uint16_t port = 0) {
  if (port == 0) port = free_port();
  const std::string conf = dir + "/nginx-" + std::to_string(port) + ".conf";
  std::ofstream(conf) << "daemon off;\nmaster_process on;\nworker_processes 1;\nuser root;\n"
                      << "pid " << dir << "/nginx-" << port << ".pid;\n"
                      << "error_log " << dir << "/nginx-error.log;\n"
                      << "events { worker_connections 64; }\n"
                      << "http {\n  sendfile on;\n  access_log " << dir << "/nginx-access.log;\n"
                      << "  default_type application/octet-stream;\n"
                      << "  client_body_temp_path " << dir << ";\n  proxy_temp_path " << dir
                      << ";\n  fastcgi_temp_path " << dir << ";\n  uwsgi_temp_path " << dir
                      << ";\n  scgi_temp_path " << dir << ";\n"
                      << "  server {\n    listen 127.0.0.1:" << port << ";\n    root " << root
                      << ";\n"
                      << extra << "\n  }\n}\n";
  const std::string error_log = dir + "/nginx-error.log";
  return await_server(
      spawn_server({"nginx", "-e", error_log, "-p", dir, "-c", conf}, dir + "/nginx-stdout.log"),
      port);
}

// `python3 script args...` (or `python3 -m http.server`) on a free port given as the last arg.
inline ServerProcess start_python(const std::string& dir, std::vector<std::string> argv) {
  const std::uint16_t port = free_port();
  argv.insert(argv.begin(), "python3");
  argv.push_back(std::to_string(port));
  return await_server(spawn_server(std::move(argv), dir + "/python.log"), port);
}

inline void write_random_file(const std::string& path, std::size_t size, std::uint64_t seed) {
  std::mt19937_64 random(seed);
  std::vector<std::uint64_t> words((size + 7) / 8);
  for (auto& w : words) w = random();
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(words.data()), static_cast<std::streamsize>(size));
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
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
