// bench/support/nats_server.hpp: a real nats-server (Debian's) for the NATS bridge's tests and
// benchmark: alone or as one node of a cluster, with JetStream if asked, configured in a
// directory of its own and run in its own process group.
//
//   auto server = zc::bench::start_nats_server({.dir = work.path(), .max_payload = 2 << 20});
//   if (!server) return std::unexpected(server.error());
//   connect_to(server->url());                             // "nats://127.0.0.1:PORT"
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/support/peer_server.hpp"
#include "zcopy/core/error.hpp"

namespace zc::bench {

struct NatsServerConfig {
  std::string dir{};  // config, log and JetStream store go here
  std::string name = "n1";
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: a free one
  std::size_t max_payload = 1024 * 1024;
  bool jetstream = false;
  // Cluster: the name, this node's route port (0: none) and the other nodes' route URLs
  // ("nats-route://127.0.0.1:6223").
  std::string cluster{};
  std::uint16_t cluster_port = 0;
  std::vector<std::string> routes{};
  std::string extra{};                     // more configuration, verbatim (accounts, ...)
  std::vector<std::string> exec_prefix{};  // runs it through this (ip netns exec NS)
  int cpu = -1;
};

class NatsServer {
 public:
  NatsServer() = default;
  std::string url() const;  // "nats://HOST:PORT", the host it listens on
  std::uint16_t port() const noexcept { return server_.port(); }
  pid_t pid() const noexcept { return server_.pid(); }
  bool running() const noexcept { return server_.running(); }
  const std::string& log() const noexcept { return log_; }
  // SIGKILL, then reap.
  void kill_now() noexcept { server_.kill_now(); }

 private:
  friend Result<NatsServer> start_nats_server(const NatsServerConfig& config);
  PeerServer server_;
  std::string log_;
};

// Fails with capability_missing when nats-server is not installed, and with its log's path when
// it exits before it listens.
Result<NatsServer> start_nats_server(const NatsServerConfig& config);

}  // namespace zc::bench
