// bench/channel/channel_bench_nats.hpp: the NATS bridge measured against plain NATS subscribers
// (`zcopy channel bench --nats`).
//
// Two machines stand as this network namespace and one of its own joined by a veth pair, each
// with a nats-server of one cluster (routed across the link). A publisher on the sending side
// pushes messages as fast as the link takes them; on the receiving side N subscribers each read
// every byte, either (nats) as N NATS subscribers of the receiving server, or (bridge) as one
// `zcopy channel import` feeding N channel subscribers. The figures are the rate delivered to all
// subscribers together (N x payload per second) and the receiving side's CPU seconds (its server
// and its clients) per delivered GB.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bench/channel/channel_bench.hpp"

namespace zc::bench {

struct NatsBenchConfig {
  std::vector<std::uint64_t> sizes{};      // message sizes
  std::vector<std::size_t> subscribers{};  // subscriber counts on the receiving side
  double seconds = 1.0;                    // measured time per method, size and count
};

struct NatsFanOutFigures {
  std::uint64_t bytes = 0;  // delivered to all subscribers together, in the measured part
  double seconds = 0;
  double server_cpu_s = 0;  // the receiving server
  double client_cpu_s = 0;  // the receiving clients (and the import)
};

// "nats" or "bridge"; Errc::capability_missing without nats-server or namespaces.
Result<NatsFanOutFigures> measure_nats_fan_out(const std::string& method, std::uint64_t size,
                                               std::size_t subscribers, const BenchTiming& timing);

// A channel-nats record per method, size and count, handed to `measured` as it is taken, and a
// table with the bridge's ratios to plain NATS.
Result<Report> run_nats_bench(const NatsBenchConfig& config,
                              const std::function<void(const JsonRecord&)>& measured = {});

}  // namespace zc::bench
