// bench/frame/frames_run.hpp: a producer process and a compositor process sharing a SwapChain,
// the compositor flipping at a refresh tick, for `zcopy frames` and the frame benchmarks.
//
//   auto report = zc::bench::run_frames({.hz = 60, .mode = zc::PresentMode::mailbox});
//   std::printf("%.1f fps, %" PRIu64 " dropped\n", report->fps, report->dropped);
//
// The producer (a forked child) renders the frame pattern (frame id in every row) into each back
// slot and presents it: in MAILBOX at twice the refresh rate, so that the compositor always has a
// newer frame than it can show; in FIFO as fast as the queue lets it. The compositor (the calling
// process) flips at each FrameTicker tick, checks every row of every new front for tearing,
// and optionally appends it to a YUV4MPEG2 file.
#pragma once

#include <cstdint>
#include <string>

#include "bench/support/report.hpp"
#include "zcopy/core/error.hpp"
#include "zcopy/frame/swap_chain_layout.hpp"

namespace zc::bench {

// Who fills the frames: the CPU rendering into the slot, or the modelled capture device writing
// by DMA through the slot's granted pages (camera_source.hpp), the compositor bracketing its reads
// with begin/end CPU access.
enum class FrameSource : std::uint8_t { render, camera };

struct FramesOptions {
  double hz = 60;
  PresentMode mode = PresentMode::mailbox;
  double seconds = 5;
  std::uint32_t width = 1920;
  std::uint32_t height = 1080;
  std::uint32_t slots = 3;
  bool pin = true;
  FrameSource source = FrameSource::render;
  // Run both processes under SCHED_FIFO, as display compositors do, so that other load on the
  // machine does not delay the tick (needs CAP_SYS_NICE: Errc::capability_missing otherwise).
  bool realtime = false;
  std::string out;  // a .y4m path, or empty
};

struct FramesReport {
  std::uint64_t ticks = 0;
  std::uint64_t shown = 0;    // ticks that flipped to a new frame
  std::uint64_t repeats = 0;  // ticks that found nothing new
  std::uint64_t missed_ticks = 0;
  std::uint64_t presented = 0;
  std::uint64_t dropped = 0;
  std::uint64_t torn = 0;
  std::uint64_t video_frames = 0;
  double seconds = 0;
  double fps = 0;  // new frames shown per second
  double latency_p50_us = 0;
  double latency_p99_us = 0;
  double latency_max_us = 0;
  double tick_us = 0;
  std::uint64_t cpu_access_begins = 0;  // camera: begin/end pairs the compositor made
  std::uint64_t cpu_access_ends = 0;
  int producer_exit = 0;  // 0, or why the producer stopped (3: a DMA write was refused)
};

Result<FramesReport> run_frames(const FramesOptions& options);

// "WIDTHxHEIGHT" into `options` (width 8-16384, height 1-16384); Errc::usage otherwise.
Result<void> set_frame_size(FramesOptions& options, const std::string& text);

// Text: what was shown, dropped and torn, and the present-to-flip latency; JSON: one record.
Report describe(const FramesReport& report, const FramesOptions& options);

}  // namespace zc::bench
