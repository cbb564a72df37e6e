// bench/channel/channel_bench_harness.hpp: what every channel bench method shares: writing and
// reading a payload, the sender's clock (warm-up, then measure) and the receiver's tally.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bench/channel/channel_bench.hpp"
#include "bench/support/stats.hpp"
#include "zcopy/core/error.hpp"

namespace zc::bench {

using Clock = std::chrono::steady_clock;

// Seconds on the monotonic clock, which every process of the machine shares.
double now_s() noexcept;
// Tells the CPU we are spinning, as the channel's own polling does.
inline void spin_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// The sender's work: every byte of the payload written.
void fill(std::span<std::byte> payload, std::uint64_t message) noexcept;
// The receiver's work: every byte read (its 8-byte words summed).
std::uint64_t sum(std::span<const std::byte> payload) noexcept;

// Lives in memory shared by sender and receiver (MAP_SHARED before the fork): the sender says
// from which message on it measures; the receiver times those messages as they arrive, so the
// rate is the one at which bytes were actually consumed.
struct Tally {
  std::atomic<std::uint64_t> measure_from{UINT64_MAX};  // messages sent before the measured part
  std::uint64_t first = 0, last = 0;                    // receiver: message counts at start, end
  double start_s = 0, end_s = 0;
  double receiver_cpu_s = 0;  // 0 when the receiver is a thread (the sender counts the process)
  double sender_cpu_s = 0;
  std::uint64_t checksum = 0;
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

// An anonymous shared mapping holding one Tally; unmapped on destruction.
class SharedTally {
 public:
  static Result<SharedTally> create();
  SharedTally(SharedTally&& other) noexcept : tally_(other.tally_) { other.tally_ = nullptr; }
  SharedTally(const SharedTally&) = delete;
  SharedTally& operator=(const SharedTally&) = delete;
  SharedTally& operator=(SharedTally&&) = delete;
  ~SharedTally();
  Tally& operator*() const noexcept { return *tally_; }
  Tally* operator->() const noexcept { return tally_; }

 private:
  explicit SharedTally(Tally* tally) noexcept : tally_(tally) {}
  Tally* tally_;
};

// The sender's side: call next() before each message; false once the measured time is over.
class SenderClock {
 public:
  SenderClock(Tally& tally, const BenchTiming& timing) noexcept;
  bool next() noexcept;
  std::uint64_t sent() const noexcept { return sent_; }
  // After the end of stream was sent.
  void finish() noexcept;

 private:
  Tally& tally_;
  double warm_until_s_, stop_at_s_, measure_s_;
  double measured_cpu_start_ = 0;
  bool measuring_ = false;
  std::uint64_t sent_ = 0;
};

// The receiver's side: received() after reading each message, finish() at end of stream.
class ReceiverTally {
 public:
  ReceiverTally(Tally& tally, bool own_process) noexcept : tally_(tally), own_(own_process) {}
  void received(std::span<const std::byte> payload) noexcept;
  void finish() noexcept;

 private:
  Tally& tally_;
  bool own_;
  bool measuring_ = false;
  std::uint64_t count_ = 0;
  std::uint64_t checksum_ = 0;
  double cpu_start_ = 0;
};

// What a finished run yields.
ThroughputFigures figures_of(const Tally& tally, std::uint64_t size);

// Eclipse iceoryx (channel_bench_iceoryx.cpp): why it cannot run on this machine, or nullopt.
std::optional<std::string> iceoryx_missing();
// Throughput with a subscriber queue of `queue` messages; round trips busy-polling or sleeping.
Result<ThroughputFigures> iceoryx_throughput(std::uint64_t size, const BenchTiming& timing,
                                             std::uint64_t queue);
Result<LatencyFigures> iceoryx_latency(std::uint64_t size, const BenchTiming& timing, bool busy);

// Chunks in flight beyond a subscriber queue's depth, the same for zcopy, iceoryx and the
// ceiling's slots: one the subscriber reads, one the publisher writes, and spares so that the
// publisher can loan while the queue is full. With fewer for zcopy than for iceoryx (4 against 8
// at 16 MiB), zcopy's publisher waited for the subscriber where iceoryx's wrote ahead.
inline constexpr std::uint64_t kChunksBeyondQueue = 4;

// Round trips timed per sample, at most this many whatever the measured time.
inline constexpr std::size_t kMaxRoundTrips = 4'000'000;

// Times round trips of `one_round_trip` (which returns false on failure): a warm-up, then until
// the measured time is up or the sample buffer is full.
template <class RoundTrip>
Result<LatencyFigures> time_round_trips(const BenchTiming& timing, RoundTrip one_round_trip) {
  std::vector<double> samples;
  samples.reserve(kMaxRoundTrips);
  const double warm_until = now_s() + timing.warmup_s;
  std::uint64_t message = 0;
  while (now_s() < warm_until) {
    if (!one_round_trip(message++)) return fail(Errc::system, "ping-pong", "warm-up failed");
  }
  const double stop_at = now_s() + timing.measure_s;
  for (;;) {
    const auto start = Clock::now();
    if (!one_round_trip(message++)) return fail(Errc::system, "ping-pong", "round trip failed");
    const auto end = Clock::now();
    samples.push_back(std::chrono::duration<double, std::nano>(end - start).count());
    if (samples.size() == kMaxRoundTrips ||
        std::chrono::duration<double>(end.time_since_epoch()).count() >= stop_at)
      break;
  }
  const Percentiles p = percentiles(samples);
  return LatencyFigures{
      .round_trips = p.count, .p50_ns = p.p50, .p99_ns = p.p99, .p999_ns = p.p999, .max_ns = p.max};
}

}  // namespace zc::bench
