// Fault jitter: touching one byte per page of a fresh buffer (a page fault each) versus a pinned,
// pre-faulted one (no fault), versus fresh memory on transparent huge pages (one fault per 2 MiB).
//
// Each iteration touches a whole buffer; its time is the touch loop alone (manual time), so the
// mmap, pin and unmap around it are not counted. Counters, averaged over iterations:
//   p50_ns, p99_ns, max_ns    per-page touch latency
//   minor_faults_per_page     1 for fresh base pages, ~0 pinned, ~1/512 on huge pages
// The machine may back guest memory lazily, so the very first pass over memory can be slower than
// any later one: each benchmark makes one untimed pass first. Compare medians across repetitions:
//   zcopy_mem_bench --benchmark_filter=FaultJitter --benchmark_repetitions=5
//                   --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include "zcopy/core/units.hpp"
#include "zcopy/mem/fault_profile.hpp"
#include "zcopy/mem/region.hpp"

namespace {

constexpr std::size_t kBufferSize = 64 * zc::kMiB;

struct Totals {
  double p50 = 0;
  double p99 = 0;
  double max = 0;
  double minor_faults_per_page = 0;
};

zc::Result<zc::Region> make_buffer(bool huge, bool pin) {
  return zc::Region::create_anonymous(kBufferSize,
                                      {.name = "fault-jitter", .huge_pages = huge, .pin = pin});
}

// One timed pass over `buffer`; false (with the benchmark marked failed) on error.
bool touch_once(benchmark::State& state, zc::Region& buffer, Totals& totals) {
  auto profile = zc::profile_first_touch(buffer.bytes());
  if (!profile) {
    state.SkipWithError(profile.error().message().c_str());
    return false;
  }
  state.SetIterationTime(static_cast<double>(profile->total_ns) * 1e-9);
  totals.p50 += static_cast<double>(profile->p50_ns);
  totals.p99 += static_cast<double>(profile->p99_ns);
  totals.max += static_cast<double>(profile->max_ns);
  totals.minor_faults_per_page +=
      static_cast<double>(profile->minor_faults) / static_cast<double>(profile->pages);
  return true;
}

void report(benchmark::State& state, const Totals& totals) {
  using benchmark::Counter;
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(kBufferSize));
  state.counters["p50_ns"] = Counter(totals.p50, Counter::kAvgIterations);
  state.counters["p99_ns"] = Counter(totals.p99, Counter::kAvgIterations);
  state.counters["max_ns"] = Counter(totals.max, Counter::kAvgIterations);
  state.counters["minor_faults_per_page"] =
      Counter(totals.minor_faults_per_page, Counter::kAvgIterations);
}

// A new, never-touched buffer per iteration: every page's first touch is a fault.
void BM_FaultJitterFresh(benchmark::State& state, bool huge) {
  {
    auto warm = make_buffer(huge, false);
    if (!warm) {
      state.SkipWithError(warm.error().message().c_str());
      return;
    }
    (void)zc::profile_first_touch(warm->bytes());
  }
  Totals totals;
  for (auto _ : state) {
    auto buffer = make_buffer(huge, false);
    if (!buffer) {
      state.SkipWithError(buffer.error().message().c_str());
      return;
    }
    if (!touch_once(state, *buffer, totals)) return;
  }
  report(state, totals);
}

// One buffer pinned (locked and pre-faulted) up front, then touched every iteration: what pinning
// buys. Pinning itself is the warm-up.
void BM_FaultJitterPinned(benchmark::State& state) {
  auto buffer = make_buffer(false, true);
  if (!buffer) {
    state.SkipWithError(buffer.error().message().c_str());
    return;
  }
  Totals totals;
  for (auto _ : state) {
    if (!touch_once(state, *buffer, totals)) return;
  }
  report(state, totals);
}

BENCHMARK_CAPTURE(BM_FaultJitterFresh, fresh_4k, false)
    ->Name("BM_FaultJitter/fresh_4k")
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FaultJitterPinned)
    ->Name("BM_FaultJitter/pinned_4k")
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_FaultJitterFresh, fresh_thp, true)
    ->Name("BM_FaultJitter/fresh_thp")
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
