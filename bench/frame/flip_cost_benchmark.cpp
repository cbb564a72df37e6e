// Flip cost: handing a frame from producer to compositor through a SwapChain (acquire, present,
// flip: a few atomic words, whatever the frame size) against a compositor that copies each frame
// into its scan-out buffer (memcpy), at sizes from 64x64 to 3840x2160 RGBA, in one run.
//
//   zcopy_frame_bench --benchmark_filter='Flip|Copy' --benchmark_repetitions=3
//                     --benchmark_report_aggregates_only=true
//
// Both sides run on one thread, so the figure is the protocol's own cost (no wake-up, no
// cross-core cache-line transfer); the memcpy touches the whole frame each time, the flip none of
// it. The frames are pinned, so page faults count in neither.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstring>

#include "zcopy/frame/swap_chain.hpp"
#include "zcopy/mem/region.hpp"

namespace {

void sizes(benchmark::internal::Benchmark* b) {
  b->Args({64, 64})->Args({640, 480})->Args({1920, 1080})->Args({3840, 2160});
}

void set_size_label(benchmark::State& state) {
  state.SetLabel(std::to_string(state.range(0)) + "x" + std::to_string(state.range(1)));
}

void BM_FrameFlip(benchmark::State& state) {
  auto chain = zc::SwapChain::create({.width = static_cast<std::uint32_t>(state.range(0)),
                                      .height = static_cast<std::uint32_t>(state.range(1)),
                                      .bytes_per_pixel = 4,
                                      .slot_count = 3,
                                      .mode = zc::PresentMode::fifo,
                                      .pin = true});
  if (!chain) {
    state.SkipWithError(chain.error().message().c_str());
    return;
  }
  std::uint64_t id = 0;
  for (auto _ : state) {
    auto back = chain->acquire(std::chrono::nanoseconds(0));
    if (!back || !chain->present(*back, ++id)) {
      state.SkipWithError("acquire or present failed");
      return;
    }
    auto flip = chain->flip();
    benchmark::DoNotOptimize(flip);
  }
  set_size_label(state);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FrameFlip)->Apply(sizes);

void BM_FrameCopyCompositor(benchmark::State& state) {
  const auto bytes = static_cast<std::size_t>(state.range(0) * state.range(1) * 4);
  auto frame = zc::Region::create_anonymous(bytes, {.pin = true});
  auto scanout = zc::Region::create_anonymous(bytes, {.pin = true});
  if (!frame || !scanout) {
    state.SkipWithError("cannot map the buffers");
    return;
  }
  std::memset(frame->data(), 0x5a, bytes);
  for (auto _ : state) {
    std::memcpy(scanout->data(), frame->data(), bytes);
    benchmark::ClobberMemory();
  }
  set_size_label(state);
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_FrameCopyCompositor)->Apply(sizes);

}  // namespace
