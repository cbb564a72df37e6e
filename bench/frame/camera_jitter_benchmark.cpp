// Camera jitter: how long the modelled capture device takes to DMA one 1920x1080 RGBA frame into
// a swap chain slot that is pinned and pre-faulted, against a fresh (never touched) slot whose
// every page faults on the first write. The spread of capture times (p99 - p50) is the jitter a
// camera pipeline would see.
//
//   zcopy_frame_bench --benchmark_filter=CameraCapture --benchmark_repetitions=3
//                     --benchmark_report_aggregates_only=true
//
// Each iteration's time is the capture alone (manual time): making the fresh chain is not counted.
#include <benchmark/benchmark.h>

#include <chrono>
#include <optional>
#include <vector>

#include "bench/support/stats.hpp"
#include "zcopy/frame/camera_source.hpp"
#include "zcopy/frame/swap_chain.hpp"

namespace {

using Clock = std::chrono::steady_clock;

std::optional<zc::SwapChain> make_chain(bool pin) {
  auto chain = zc::SwapChain::create({.width = 1920,
                                      .height = 1080,
                                      .bytes_per_pixel = 4,
                                      .slot_count = 2,
                                      .mode = zc::PresentMode::fifo,
                                      .pin = pin});
  if (!chain) return std::nullopt;
  return std::move(*chain);
}

void BM_CameraCapture(benchmark::State& state) {
  const bool pinned = state.range(0) != 0;
  std::optional<zc::SwapChain> chain = make_chain(pinned);
  std::vector<double> samples;
  zc::CameraDevice camera;
  std::uint64_t id = 0;
  for (auto _ : state) {
    if (!pinned) chain = make_chain(false);  // fresh pages for every frame
    if (!chain) {
      state.SkipWithError("cannot create the swap chain");
      return;
    }
    auto grant = zc::DmaGrant::for_slot(*chain, 0);
    if (!grant) {
      state.SkipWithError(grant.error().message().c_str());
      return;
    }
    const auto start = Clock::now();
    auto captured =
        camera.capture(*grant, ++id, chain->geometry().row_bytes, chain->geometry().height);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (!captured) {
      state.SkipWithError(captured.error().message().c_str());
      return;
    }
    state.SetIterationTime(seconds);
    samples.push_back(seconds * 1e6);
  }
  const zc::bench::Percentiles p = zc::bench::percentiles(samples);
  state.counters["p50_us"] = p.p50;
  state.counters["p99_us"] = p.p99;
  state.counters["jitter_us"] = p.p99 - p.p50;
  state.SetLabel(pinned ? "pinned" : "fresh");
}
BENCHMARK(BM_CameraCapture)->Arg(1)->Arg(0)->UseManualTime()->Iterations(200);

}  // namespace
