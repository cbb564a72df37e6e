// SpscRing against boost::lockfree::spsc_queue, side by side in one run: one producer thread and
// one consumer thread on different cores move 8-byte elements through a 64 Ki-slot ring.
// Single-element and batched (64 at a time) variants of both. items_per_second is the figure to
// compare.
//
// Fairness: both queues live on the heap (not on the consumer's stack, whose hot lines would sit
// next to the queue's), and both spin loops wait with spin_wait() when the queue is full or empty.
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>

#include <array>
#include <boost/lockfree/spsc_queue.hpp>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <thread>

#include "zcopy/ring/spsc_ring.hpp"

namespace {

constexpr std::size_t kCapacity = 65536;
constexpr std::uint64_t kItems = 4'000'000;
constexpr std::size_t kBatch = 64;

void pin_to_cpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<unsigned>(cpu) % std::thread::hardware_concurrency(), &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

// What both queues' loops do when the queue is full (producer) or empty (consumer): a pause, so a
// side with nothing to do does not hammer the line the other side is writing.
inline void spin_wait() {
  __builtin_ia32_pause();
}

// Runs `produce` on CPU 1 and `consume` on CPU 0 (this thread) once per iteration.
template <class Produce, class Consume>
void run_pair(benchmark::State& state, Produce produce, Consume consume) {
  pin_to_cpu(0);
  for (auto _ : state) {
    std::thread producer([&] {
      pin_to_cpu(1);
      produce();
    });
    const std::uint64_t sum = consume();
    producer.join();
    if (sum != kItems * (kItems - 1) / 2) state.SkipWithError("lost or duplicated elements");
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kItems));
}

void BM_SpscRing(benchmark::State& state) {
  auto created = zc::SpscRing<std::uint64_t>::create(kCapacity);
  if (!created) return state.SkipWithError(created.error().message().c_str());
  auto ring = std::make_unique<zc::SpscRing<std::uint64_t>>(std::move(*created));
  run_pair(
      state,
      [&] {
        for (std::uint64_t i = 0; i < kItems; ++i)
          while (!ring->try_push(i)) spin_wait();
      },
      [&] {
        std::uint64_t sum = 0;
        for (std::uint64_t n = 0; n < kItems;) {
          if (std::uint64_t* v = ring->front()) {
            sum += *v;
            ring->pop();
            ++n;
          } else {
            spin_wait();
          }
        }
        return sum;
      });
}

void BM_SpscRingBatch(benchmark::State& state) {
  auto created = zc::SpscRing<std::uint64_t>::create(kCapacity);
  if (!created) return state.SkipWithError(created.error().message().c_str());
  auto ring = std::make_unique<zc::SpscRing<std::uint64_t>>(std::move(*created));
  run_pair(
      state,
      [&] {
        for (std::uint64_t i = 0; i < kItems;) {
          std::span<std::uint64_t> slots = ring->reserve(kBatch);
          if (slots.empty()) {
            spin_wait();
            continue;
          }
          const std::size_t n = std::min<std::uint64_t>(slots.size(), kItems - i);
          for (std::size_t k = 0; k < n; ++k) slots[k] = i + k;
          ring->commit(n);
          i += n;
        }
      },
      [&] {
        std::uint64_t sum = 0;
        for (std::uint64_t n = 0; n < kItems;) {
          std::span<std::uint64_t> ready = ring->readable(kBatch);
          if (ready.empty()) {
            spin_wait();
            continue;
          }
          for (const std::uint64_t v : ready) sum += v;
          ring->consume(ready.size());
          n += ready.size();
        }
        return sum;
      });
}

void BM_BoostSpscQueue(benchmark::State& state) {
  auto queue = std::make_unique<
      boost::lockfree::spsc_queue<std::uint64_t, boost::lockfree::capacity<kCapacity>>>();
  run_pair(
      state,
      [&] {
        for (std::uint64_t i = 0; i < kItems; ++i)
          while (!queue->push(i)) spin_wait();
      },
      [&] {
        std::uint64_t sum = 0;
        std::uint64_t v = 0;
        for (std::uint64_t n = 0; n < kItems;) {
          if (queue->pop(v)) {
            sum += v;
            ++n;
          } else {
            spin_wait();
          }
        }
        return sum;
      });
}

void BM_BoostSpscQueueBatch(benchmark::State& state) {
  auto queue = std::make_unique<
      boost::lockfree::spsc_queue<std::uint64_t, boost::lockfree::capacity<kCapacity>>>();
  run_pair(
      state,
      [&] {
        std::array<std::uint64_t, kBatch> batch{};
        for (std::uint64_t i = 0; i < kItems;) {
          const std::size_t n = std::min<std::uint64_t>(kBatch, kItems - i);
          for (std::size_t k = 0; k < n; ++k) batch[k] = i + k;
          std::size_t pushed = 0;
          while (pushed < n) {
            const std::size_t more = queue->push(batch.data() + pushed, n - pushed);
            if (more == 0) spin_wait();
            pushed += more;
          }
          i += n;
        }
      },
      [&] {
        std::uint64_t sum = 0;
        std::array<std::uint64_t, kBatch> batch{};
        for (std::uint64_t n = 0; n < kItems;) {
          const std::size_t got = queue->pop(batch.data(), kBatch);
          if (got == 0) {
            spin_wait();
            continue;
          }
          for (std::size_t k = 0; k < got; ++k) sum += batch[k];
          n += got;
        }
        return sum;
      });
}

}  // namespace

BENCHMARK(BM_SpscRing)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BoostSpscQueue)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SpscRingBatch)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_BoostSpscQueueBatch)->UseRealTime()->Unit(benchmark::kMillisecond);
