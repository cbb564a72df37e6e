// The shared parts of the channel bench: payload work, clocks and tallies.
#include "bench/channel/channel_bench_harness.hpp"

#include <sys/mman.h>

#include <cstring>
#include <new>

#include "zcopy/core/transfer_ledger.hpp"

namespace zc::bench {

double now_s() noexcept {
  return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}

void fill(std::span<std::byte> payload, std::uint64_t message) noexcept {
  std::memset(payload.data(), static_cast<int>(message & 0xff), payload.size());
}

std::uint64_t sum(std::span<const std::byte> payload) noexcept {
  // Four independent 64-bit lanes, 32 bytes per step: one accumulator would chain every add
  // behind the last and read 8 bytes a cycle, slower than a cache line arrives from the other
  // core, so the bench would measure this loop instead of the transport. The total is the same
  // sum of 8-byte words (mod 2^64) a word-at-a-time loop computes.
  using Lanes = std::uint64_t __attribute__((vector_size(32)));
  Lanes lanes{};
  std::size_t i = 0;
  for (; i + sizeof(Lanes) <= payload.size(); i += sizeof(Lanes)) {
    Lanes block;
    std::memcpy(&block, payload.data() + i, sizeof block);
    lanes += block;
  }
  std::uint64_t total = lanes[0] + lanes[1] + lanes[2] + lanes[3];
  for (; i + 8 <= payload.size(); i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, payload.data() + i, sizeof word);
    total += word;
  }
  for (; i < payload.size(); ++i) total += static_cast<std::uint8_t>(payload[i]);
  return total;
}

Result<SharedTally> SharedTally::create() {
  void* memory =
      ::mmap(nullptr, sizeof(Tally), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return fail_errno(errno, "mmap(bench tally)");
  return SharedTally(new (memory) Tally());
}

SharedTally::~SharedTally() {
  if (tally_ != nullptr) ::munmap(tally_, sizeof(Tally));
}

SenderClock::SenderClock(Tally& tally, const BenchTiming& timing) noexcept : tally_(tally) {
  const double start = now_s();
  warm_until_s_ = start + timing.warmup_s;
  measure_s_ = timing.measure_s;
  stop_at_s_ = warm_until_s_ + timing.measure_s;
}

bool SenderClock::next() noexcept {
  // Reading the clock costs ~20 ns; for small messages look at it every 16th message only.
  if ((sent_ & 15) == 0 || measuring_ == false) {
    const double now = now_s();
    if (!measuring_ && now >= warm_until_s_) {
      measuring_ = true;
      // Measured from now: a warm-up that overran (a message stalled on a loaded machine) must
      // not eat into the measured part, or leave none of it.
      stop_at_s_ = now + measure_s_;
      measured_cpu_start_ = process_cpu_time().total();
      // Release: pairs with the receiver's acquire load; only a count travels, no data.
      tally_.measure_from.store(sent_, std::memory_order_release);
    }
    if (measuring_ && now >= stop_at_s_) return false;
  }
  ++sent_;
  return true;
}

void SenderClock::finish() noexcept {
  if (!measuring_) tally_.measure_from.store(sent_, std::memory_order_release);
  tally_.sender_cpu_s = process_cpu_time().total() - measured_cpu_start_;
}

void ReceiverTally::received(std::span<const std::byte> payload) noexcept {
  checksum_ += sum(payload);
  ++count_;
  if (!measuring_ && count_ >= tally_.measure_from.load(std::memory_order_acquire)) {
    measuring_ = true;
    tally_.first = count_;
    tally_.start_s = now_s();
    if (own_) cpu_start_ = process_cpu_time().total();
  }
}

void ReceiverTally::finish() noexcept {
  tally_.last = count_;
  tally_.end_s = now_s();
  tally_.checksum = checksum_;
  if (own_) tally_.receiver_cpu_s = process_cpu_time().total() - cpu_start_;
  if (!measuring_) {
    tally_.first = count_;
    tally_.start_s = tally_.end_s;
  }
}

ThroughputFigures figures_of(const Tally& tally, std::uint64_t size) {
  ThroughputFigures f;
  f.messages = tally.last - tally.first;
  f.bytes = f.messages * size;
  f.seconds = tally.end_s - tally.start_s;
  f.cpu_seconds = tally.sender_cpu_s + tally.receiver_cpu_s;
  f.chunk_bytes = size;
  return f;
}

}  // namespace zc::bench
