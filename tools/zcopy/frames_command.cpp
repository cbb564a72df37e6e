// zcopy frames: a producer process renders frames into a shared swap chain and a compositor
// process flips to them at a refresh tick, without copying them; prints what was shown.
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <string>

#include "bench/frame/frames_run.hpp"
#include "command.hpp"
#include "options.hpp"
#include "zcopy/core/json_record.hpp"

namespace zc::cli {
namespace {

struct FramesCommandOptions {
  bench::FramesOptions run;
  std::string mode = "mailbox";
  std::string size = "1920x1080";
  std::string source = "render";
  bool json = false;
};

// "WxH" -> width, height.
Result<std::pair<std::uint32_t, std::uint32_t>> parse_frame_size(const std::string& text) {
  unsigned width = 0;
  unsigned height = 0;
  char tail = 0;
  if (std::sscanf(text.c_str(), "%ux%u%c", &width, &height, &tail) != 2 || width < 8 ||
      height < 1 || width > 16384 || height > 16384) {
    return fail(Errc::usage, "--size",
                "'" + text + "': expected WIDTHxHEIGHT, width 8-16384, height 1-16384");
  }
  return std::pair{static_cast<std::uint32_t>(width), static_cast<std::uint32_t>(height)};
}

void print_text(const bench::FramesReport& r, const FramesCommandOptions& o) {
  std::printf("zcopy frames: %s %.0f Hz, %ux%u RGBA from %s, %u slots, %.1f s\n", o.mode.c_str(),
              o.run.hz, o.run.width, o.run.height, o.source.c_str(), o.run.slots, r.seconds);
  std::printf("  fps          %.1f (new frames shown per second)\n", r.fps);
  std::printf("  ticks        %" PRIu64 " (%" PRIu64 " missed)\n", r.ticks, r.missed_ticks);
  std::printf("  presented    %" PRIu64 "\n", r.presented);
  std::printf("  shown        %" PRIu64 "\n", r.shown);
  std::printf("  dropped      %" PRIu64 "\n", r.dropped);
  std::printf("  repeats      %" PRIu64 " (ticks with nothing new)\n", r.repeats);
  std::printf("  torn         %" PRIu64 "\n", r.torn);
  std::printf("  present->flip p50 %.0f us, p99 %.0f us, max %.0f us (tick %.0f us)\n",
              r.latency_p50_us, r.latency_p99_us, r.latency_max_us, r.tick_us);
  if (o.run.source == bench::FrameSource::camera) {
    std::printf("  cpu access   %" PRIu64 " begin / %" PRIu64 " end (DMA_BUF_IOCTL_SYNC points)\n",
                r.cpu_access_begins, r.cpu_access_ends);
  }
  if (r.producer_exit != 0) std::printf("  producer     stopped with code %d\n", r.producer_exit);
  if (!o.run.out.empty()) {
    std::printf("  video        %s, %" PRIu64 " frames\n", o.run.out.c_str(), r.video_frames);
  }
}

void print_json(const bench::FramesReport& r, const FramesCommandOptions& o) {
  JsonRecord record;
  record.add("mode", o.mode)
      .add("source", o.source)
      .add("hz", o.run.hz)
      .add("width", std::uint64_t{o.run.width})
      .add("height", std::uint64_t{o.run.height})
      .add("slots", std::uint64_t{o.run.slots})
      .add("realtime", o.run.realtime)
      .add("seconds", r.seconds)
      .add("fps", r.fps)
      .add("ticks", r.ticks)
      .add("missed_ticks", r.missed_ticks)
      .add("presented", r.presented)
      .add("shown", r.shown)
      .add("dropped", r.dropped)
      .add("repeats", r.repeats)
      .add("torn", r.torn)
      .add("latency_p50_us", r.latency_p50_us)
      .add("latency_p99_us", r.latency_p99_us)
      .add("latency_max_us", r.latency_max_us)
      .add("tick_us", r.tick_us)
      .add("cpu_access_begins", r.cpu_access_begins)
      .add("cpu_access_ends", r.cpu_access_ends)
      .add("producer_exit", r.producer_exit)
      .add("video_frames", r.video_frames);
  std::printf("%s\n", record.str().c_str());
}

}  // namespace

CommandRunner add_frames_command(CLI::App& sub) {
  auto options = std::make_shared<FramesCommandOptions>();
  sub.add_option("--hz", options->run.hz, "Refresh rate of the compositor's tick (default 60)")
      ->check(CLI::Range(1.0, 10000.0));
  sub.add_option("--mode", options->mode, "mailbox (newest frame, drops) or fifo (every frame)")
      ->check(CLI::IsMember({"mailbox", "fifo"}));
  sub.add_option("--seconds", options->run.seconds, "How long to run (default 5)")
      ->check(CLI::Range(0.1, 3600.0));
  sub.add_option("--size", options->size, "Frame size WIDTHxHEIGHT (default 1920x1080)")
      ->check(accepted_by(parse_frame_size, "WIDTHxHEIGHT"));
  sub.add_option("--slots", options->run.slots, "Slots in the swap chain, 2-4 (default 3)")
      ->check(CLI::Range(2, 4));
  sub.add_option("--source", options->source,
                 "render (the CPU draws) or camera (a modelled device writes by DMA)")
      ->check(CLI::IsMember({"render", "camera"}));
  sub.add_option("--out", options->run.out, "Write the shown frames to this .y4m video");
  sub.add_flag("--realtime", options->run.realtime,
               "Run producer and compositor under SCHED_FIFO, as compositors do (needs root)");
  sub.add_flag("--json", options->json, "One JSON record instead of text");
  return [options]() -> CommandResult {
    auto size = parse_frame_size(options->size);
    if (!size) return std::unexpected(std::move(size.error()));
    options->run.width = size->first;
    options->run.height = size->second;
    options->run.mode = options->mode == "fifo" ? PresentMode::fifo : PresentMode::mailbox;
    options->run.source =
        options->source == "camera" ? bench::FrameSource::camera : bench::FrameSource::render;
    auto report = bench::run_frames(options->run);
    if (!report) return std::unexpected(std::move(report.error()).with_context("frames"));
    if (options->json) {
      print_json(*report, *options);
    } else {
      print_text(*report, *options);
    }
    return report->torn == 0 && report->producer_exit == 0 ? kExitOk : kExitRuntimeError;
  };
}

}  // namespace zc::cli
