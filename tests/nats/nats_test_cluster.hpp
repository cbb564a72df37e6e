// Three nats-servers in one cluster on loopback ports, every node routed to the other two, for the
// NATS bridge's fail-over tests; with JetStream when asked (then a three-node meta group that can
// keep streams with three replicas).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "bench/support/data.hpp"
#include "bench/support/nats_server.hpp"

namespace zc::test {

// Starts the three nodes (n0, n1, n2) and waits until the full mesh of routes stands, so that
// interest travels between any two of them once one is gone. Fails the test (fatally) otherwise.
inline void start_nats_cluster(const std::string& dir, bool jetstream,
                               std::vector<bench::NatsServer>& servers) {
  using namespace std::chrono_literals;
  std::vector<std::uint16_t> routes;
  for (std::size_t i = 0; i < 3; ++i) routes.push_back(bench::free_port());
  for (std::size_t i = 0; i < 3; ++i) {
    std::vector<std::string> others;
    for (std::size_t j = 0; j < 3; ++j) {
      if (j != i) others.push_back("nats-route://127.0.0.1:" + std::to_string(routes[j]));
    }
    auto server = bench::start_nats_server({.dir = dir,
                                            .name = "n" + std::to_string(i),
                                            .jetstream = jetstream,
                                            .cluster = "zcopy",
                                            .cluster_port = routes[i],
                                            .routes = others});
    ASSERT_TRUE(server) << server.error().message();
    servers.push_back(std::move(*server));
  }
  auto routes_up = [&] {
    for (const bench::NatsServer& server : servers) {
      const std::string log = bench::read_text(server.log());
      std::size_t routes_made = 0;
      for (std::size_t at = log.find("Route connection created"); at != std::string::npos;
           at = log.find("Route connection created", at + 1)) {
        ++routes_made;
      }
      if (routes_made < 2) return false;
    }
    return true;
  };
  for (int waited = 0; !routes_up() && waited < 500; ++waited) std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(routes_up()) << "the cluster did not form";
}

}  // namespace zc::test
