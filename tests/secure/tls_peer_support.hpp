// What the secure tests share: a scratch site with test certificates, `openssl s_server` as a peer,
// a client loop that keeps what it received beside how it ended, and a proxy that forwards TLS
// records and alters one.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/support/data.hpp"
#include "bench/support/peer_server.hpp"
#include "bench/support/process.hpp"
#include "bench/support/tls_pki.hpp"
#include "support/capability_gate.hpp"
#include "zcopy/core/fd.hpp"
#include "zcopy/net/tcp.hpp"
#include "zcopy/secure/session.hpp"

namespace zc::test {

// A scratch directory with a test CA's certificates (bench/support/tls_pki.hpp) and a file of
// random bytes, www/file.bin, for servers to serve.
class TlsSiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!bench::have_program("openssl")) ZC_SKIP_BECAUSE("needs the openssl program");
    auto pki = bench::make_tls_pki(dir_.path());
    ASSERT_TRUE(pki) << pki.error().message();
    pki_ = *pki;
    ASSERT_EQ(::mkdir((dir_ / "www").c_str(), 0755), 0);
    body_ = bench::random_bytes(5 * 1024 * 1024 + 123, 18);
    std::ofstream(dir_ / "www/file.bin", std::ios::binary) << body_;
  }

  bench::TempDir dir_{"zcopy-secure"};
  bench::TlsPki pki_;
  std::string body_;
};

struct SServerOptions {
  std::string cert{};
  std::string key{};
  std::string suite{};     // -ciphersuites, for TLS 1.3
  bool tls12 = false;      // -tls1_2 instead of -tls1_3
  std::string www_root{};  // non-empty: -WWW serving this directory
};

// openssl s_server on a free loopback port; in interactive mode (no www_root) its stdin is a
// pipe (`send_line`) and its stdout a pipe (what the client sent shows up there).
struct SServer {
  bench::Process process;
  std::uint16_t port = 0;
  Fd input;

  void send_line(const std::string& line) const {
    const std::string text = line + "\n";
    ASSERT_EQ(::write(input.get(), text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }
};

inline Result<SServer> start_s_server(const SServerOptions& o) {
  SServer server;
  server.port = bench::free_port();
  std::vector<std::string> argv = {
      "openssl",      "s_server", "-accept", "127.0.0.1:" + std::to_string(server.port),
      "-cert",        o.cert,     "-key",    o.key,
      "-num_tickets", "0"};
  argv.push_back(o.tls12 ? "-tls1_2" : "-tls1_3");
  if (!o.suite.empty()) argv.insert(argv.end(), {"-ciphersuites", o.suite});
  int in[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return fail_errno(errno, "pipe2");
  Fd read_end = Fd::adopt(in[0]);
  server.input = Fd::adopt(in[1]);
  const std::string root = o.www_root;
  if (!root.empty()) argv.insert(argv.end(), {"-WWW", "-quiet"});
  const int stdin_fd = read_end.get();
  auto process =
      bench::Process::spawn(argv, {.out = root.empty() ? bench::Output::pipe : bench::Output::null,
                                   .err = bench::Output::null,
                                   .before_exec = [stdin_fd, root] {
                                     ::dup2(stdin_fd, 0);
                                     if (!root.empty() && ::chdir(root.c_str()) != 0) ::_exit(97);
                                   }});
  if (!process) return std::unexpected(process.error());
  server.process = std::move(*process);
  if (!bench::wait_listening("127.0.0.1", server.port, std::chrono::seconds(10)))
    return fail(Errc::timeout, "openssl s_server", "not listening after 10 s");
  return server;
}

// Everything a client received, and the error it ended with (none after close_notify).
struct Fetched {
  std::string data;
  std::optional<Error> error;
};

inline Fetched read_to_end(secure::Session& session) {
  Fetched fetched;
  std::vector<std::byte> buffer(secure::Session::kReadRoom);
  for (;;) {
    auto data = session.read(buffer);
    if (!data) {
      fetched.error = data.error();
      return fetched;
    }
    if (data->empty()) return fetched;
    fetched.data.append(reinterpret_cast<const char*>(data->data()), data->size());
  }
}

// The same through read() and read_waiting() (of a Session or a RecordLayer), gathered the way
// a download writes: views of the records already received are appended only when the socket
// must be read again, so a view that a later record moved or overwrote shows up as wrong bytes.
template <typename Reader>
Fetched read_ahead_to_end(Reader& session) {
  Fetched fetched;
  for (;;) {
    auto data = session.read();
    if (!data) {
      fetched.error = data.error();
      return fetched;
    }
    if (data->empty()) return fetched;
    std::vector<std::span<const std::byte>> views{*data};
    bool ended = false;
    for (;;) {
      auto next = session.read_waiting();
      if (!next) fetched.error = next.error();
      if (!next || !*next) break;
      if ((*next)->empty()) {  // close_notify
        ended = true;
        break;
      }
      views.push_back(**next);
    }
    for (auto view : views)
      fetched.data.append(reinterpret_cast<const char*>(view.data()), view.size());
    if (fetched.error || ended) return fetched;
  }
}

inline std::span<const std::byte> bytes_of(const std::string& text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

// How the proxy alters the `target`th record the server sends after the client's request.
enum class Attack { none, flip_ciphertext_bit, flip_tag_bit, drop, replay, truncate, oversize };

// Accepts one client on a loopback port, connects it to the upstream port and forwards both ways,
// cutting the server's stream into records. Server records are counted from the first one after
// the client's second protected record (its Finished, then the request); with no tickets the
// server sends nothing in between, so that count is the response's records.
class TlsProxy {
 public:
  TlsProxy(std::uint16_t upstream, Attack attack, std::size_t target)
      : upstream_(upstream), attack_(attack), target_(target) {
    listener_ = std::move(*net::listen_tcp(net::Endpoint{"127.0.0.1", 0}, {.nonblocking = false}));
    sockaddr_in address{};
    socklen_t length = sizeof address;
    ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~TlsProxy() {
    stop_ = true;
    thread_.join();
  }
  std::uint16_t port() const { return port_; }
  // Content bytes of the response records forwarded unaltered before the attack took effect.
  std::size_t content_before_attack() const { return content_before_; }
  bool attacked() const { return attacked_; }

 private:
  static void send_all(int fd, const std::uint8_t* p, std::size_t n) {
    while (n > 0) {
      const ssize_t sent = ::send(fd, p, n, MSG_NOSIGNAL);
      if (sent <= 0) return;
      p += sent;
      n -= static_cast<std::size_t>(sent);
    }
  }

  void run() {
    pollfd accept_poll{listener_.get(), POLLIN, 0};
    while (!stop_ && ::poll(&accept_poll, 1, 50) == 0) {
    }
    if (stop_) return;
    Fd client = Fd::adopt(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    auto server = net::connect_tcp(net::Endpoint{"127.0.0.1", upstream_}, std::chrono::seconds(5));
    if (!server) return;
    std::vector<std::uint8_t> from_client, from_server;
    std::size_t client_protected = 0, response_records = 0;
    bool done = false;
    std::uint8_t chunk[65536];
    while (!stop_ && !done) {
      pollfd polls[2] = {{client.get(), POLLIN, 0}, {server->get(), POLLIN, 0}};
      if (::poll(polls, 2, 50) <= 0) continue;
      if (polls[0].revents != 0) {
        const ssize_t n = ::recv(client.get(), chunk, sizeof chunk, 0);
        if (n <= 0) break;
        from_client.insert(from_client.end(), chunk, chunk + n);
        while (from_client.size() >= 5) {
          const std::size_t length = std::size_t{from_client[3]} << 8 | from_client[4];
          if (from_client.size() < 5 + length) break;
          if (from_client[0] == 23) ++client_protected;
          send_all(server->get(), from_client.data(), 5 + length);
          from_client.erase(from_client.begin(),
                            from_client.begin() + static_cast<long>(5 + length));
        }
      }
      if (polls[1].revents != 0) {
        const ssize_t n = ::recv(server->get(), chunk, sizeof chunk, 0);
        if (n <= 0) {
          ::shutdown(client.get(), SHUT_WR);
          break;
        }
        from_server.insert(from_server.end(), chunk, chunk + n);
        while (!done && from_server.size() >= 5) {
          const std::size_t length = std::size_t{from_server[3]} << 8 | from_server[4];
          if (from_server.size() < 5 + length) break;
          std::vector<std::uint8_t> record(from_server.begin(),
                                           from_server.begin() + static_cast<long>(5 + length));
          from_server.erase(from_server.begin(),
                            from_server.begin() + static_cast<long>(5 + length));
          const bool response = client_protected >= 2;
          if (!response || attack_ == Attack::none || response_records++ != target_) {
            if (response && !attacked_) content_before_ += length - 17;
            send_all(client.get(), record.data(), record.size());
            continue;
          }
          attacked_ = true;
          switch (attack_) {
            case Attack::flip_ciphertext_bit:
              record[5 + length / 2] ^= 0x10;
              break;
            case Attack::flip_tag_bit:
              record[record.size() - 1] ^= 0x01;
              break;
            case Attack::drop:
              record.clear();
              break;
            case Attack::replay:
              content_before_ += length - 17;
              send_all(client.get(), record.data(), record.size());
              break;
            case Attack::truncate:
              record.resize(5 + length / 2);
              done = true;
              break;
            case Attack::oversize: {
              const std::size_t big = (std::size_t{1} << 14) + 257;
              record.assign(5 + big, 0xab);
              record[0] = 23, record[1] = 3, record[2] = 3;
              record[3] = static_cast<std::uint8_t>(big >> 8);
              record[4] = static_cast<std::uint8_t>(big);
              done = true;
              break;
            }
            case Attack::none:
              break;
          }
          send_all(client.get(), record.data(), record.size());
          if (done) ::shutdown(client.get(), SHUT_WR);
        }
      }
    }
    // Hold the connection open until the test is done with it, so an error comes from the
    // altered record and not from our closing.
    while (!stop_) ::poll(nullptr, 0, 20);
  }

  Fd listener_;
  std::uint16_t port_ = 0;
  std::uint16_t upstream_;
  Attack attack_;
  std::size_t target_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::atomic<std::size_t> content_before_{0};
  std::atomic<bool> attacked_{false};
};

}  // namespace zc::test
