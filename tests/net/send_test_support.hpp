// tests/net/send_test_support.hpp: a loopback TCP connection whose receiving end a thread drains,
// checksumming what arrives, for the zero-copy sender's tests.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "zcopy/core/fd.hpp"
#include "zcopy/net/tcp.hpp"

namespace zc::net::test {

// FNV-1a, continued across calls.
inline std::uint64_t fnv1a(std::span<const std::byte> bytes,
                           std::uint64_t hash = 14695981039346656037ull) {
  for (std::byte b : bytes) hash = (hash ^ static_cast<std::uint64_t>(b)) * 1099511628211ull;
  return hash;
}

struct TcpPair {
  Fd sender;
  Fd receiver;
};

inline std::optional<TcpPair> tcp_pair() {
  using namespace std::chrono_literals;
  auto server = listen_tcp(Endpoint{"127.0.0.1", 0}, {.nonblocking = false});
  if (!server) return std::nullopt;
  auto port = local_address(server->get());
  if (!port) return std::nullopt;
  auto client = connect_tcp({"127.0.0.1", port->port()}, 2s);
  if (!client) return std::nullopt;
  Fd accepted = Fd::adopt(::accept4(server->get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!accepted) return std::nullopt;
  return TcpPair{std::move(*client), std::move(accepted)};
}

// Reads the socket to end of stream on a thread, hashing every byte (or, when `start_reading`
// stays false, reads nothing until it is set, like a peer that stopped reading).
class Drain {
 public:
  explicit Drain(int fd, bool read_now = true) : fd_(fd), reading_(read_now) {
    thread_ = std::thread([this, fd] {
      std::vector<std::byte> buffer(1 << 16);
      while (!reading_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      for (;;) {
        const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
        if (n <= 0) break;
        hash_ = fnv1a(std::span(buffer).first(static_cast<std::size_t>(n)), hash_);
        bytes_ += static_cast<std::uint64_t>(n);
      }
    });
  }
  Drain(const Drain&) = delete;
  Drain& operator=(const Drain&) = delete;
  // Without join() first (a test that failed early), ends the reads so the thread finishes.
  ~Drain() {
    reading_ = true;
    if (thread_.joinable()) {
      ::shutdown(fd_, SHUT_RDWR);
      thread_.join();
    }
  }

  void start() { reading_ = true; }
  // Waits for end of stream (the sender shut down its side).
  void join() {
    reading_ = true;
    thread_.join();
  }
  std::uint64_t bytes() const { return bytes_; }
  std::uint64_t hash() const { return hash_; }

 private:
  int fd_;
  std::atomic<bool> reading_;
  std::uint64_t bytes_ = 0;
  std::uint64_t hash_ = 14695981039346656037ull;
  std::thread thread_;
};

}  // namespace zc::net::test
