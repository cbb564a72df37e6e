// bench/channel/channel_bench.hpp: the channel measured side by side with a Unix socket, a pipe, a
// Boost.Interprocess message_queue and a no-channel ceiling (`zcopy channel bench`).
//
// Every method does the same work per message: the sender writes the whole payload and the
// receiver reads all of it (sums its words), so only the way the bytes travel differs.
// Throughput runs the sender and receiver in two processes (the ceiling: two threads of one);
// latency is a ping-pong between two processes, timed per round trip; death detection times
// how long after a SIGKILL the other end of a channel knows.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bench/support/report.hpp"
#include "zcopy/core/error.hpp"

namespace zc::bench {

// Timing of one measurement: a warm-up (the VM backs memory lazily) and then the measured part.
struct BenchTiming {
  double warmup_s = 0.25;
  double measure_s = 1.0;
};

struct ThroughputFigures {
  std::uint64_t messages = 0;
  std::uint64_t bytes = 0;
  double seconds = 0;
  double cpu_seconds = 0;         // user + sys of sender and receiver over the measured part
  std::uint64_t chunk_bytes = 0;  // the largest unit the method moves (boost-mq chunks)
  std::uint64_t batch = 0;        // messages per loan_n/publish_n/receive_n (zcopy-batch)
  std::uint64_t queue = 0;        // messages a subscriber's queue holds (zcopy, iceoryx)
  std::string fences;             // zcopy: Publisher::fences(), how publish() is ordered
};

struct LatencyFigures {
  std::uint64_t round_trips = 0;
  double p50_ns = 0, p99_ns = 0, p999_ns = 0, max_ns = 0;
  std::uint64_t queue = 0;  // messages a subscriber's queue holds (iceoryx)
};

// The throughput methods, in table order: ceiling, zcopy, zcopy-batch, iceoryx, unix, pipe,
// boost-mq. A method whose peer is missing fails with Errc::capability_missing.
const std::vector<std::string>& throughput_methods();
Result<ThroughputFigures> measure_throughput(const std::string& method, std::uint64_t size,
                                             const BenchTiming& timing);

// The latency methods: floor, floor-2line, zcopy-busy, zcopy-wake, iceoryx-busy, iceoryx-wake,
// unix, pipe.
const std::vector<std::string>& latency_methods();
Result<LatencyFigures> measure_latency(const std::string& method, std::uint64_t size,
                                       const BenchTiming& timing);

// One publisher and several subscriber processes, each reading every byte (fan-out).
struct FanOutFigures {
  std::size_t subscribers = 0;
  std::size_t batch = 0;      // messages per loan_n/publish_n/receive_n; 0: one at a time
  double rate = 0;            // messages per second every subscriber received
  double publisher_cpu = 0;   // CPUs the publisher's process used (1.0 = one core busy)
  double subscriber_cpu = 0;  // CPUs per subscriber process, the mean over them
};
inline constexpr std::size_t kFanOutCounts[] = {1, 2, 4, 8};
// `batches`: loan_n/publish_n/receive_n (as zcopy-batch) instead of one message at a time.
Result<FanOutFigures> measure_fan_out(std::size_t subscribers, std::uint64_t size,
                                      const BenchTiming& timing, bool batches = false);

// Death detection: subscriber-killed (the publisher notices), publisher-killed (the subscriber
// does). Each sample is one SIGKILL, timed until it is noticed (round_trips counts the kills).
const std::vector<std::string>& death_methods();
Result<LatencyFigures> measure_death_detection(const std::string& method,
                                               const BenchTiming& timing);

struct ChannelBenchConfig {
  std::vector<std::uint64_t> sizes{};  // message sizes; latency uses those <= 4 KiB
  double seconds = 1.0;                // measured time per method and size, after a warm-up
};
// Every method at every size: a channel-throughput, channel-latency or channel-death record per
// measurement,
// handed to `measured` as soon as it is taken (a long run shows its progress), and a table per
// section (channel_bench_report.cpp).
Result<Report> run_channel_bench(const ChannelBenchConfig& config,
                                 const std::function<void(const JsonRecord&)>& measured = {});

}  // namespace zc::bench
