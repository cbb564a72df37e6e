// zcopy frames: a producer process renders frames into a shared swap chain and a compositor
// process flips to them at a refresh tick, without copying them; prints what was shown
// (bench/frame/frames_run.hpp runs both).
#include <cstdio>
#include <memory>
#include <string>

#include "bench/frame/frames_run.hpp"
#include "command.hpp"
#include "options.hpp"

namespace zc::cli {
namespace {

struct FramesCommandOptions {
  bench::FramesOptions run;
  std::string mode = "mailbox";
  std::string size = "1920x1080";
  std::string source = "render";
  bool json = false;
};

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
      ->check(accepted_by(
          [](const std::string& text) {
            bench::FramesOptions scratch;
            return bench::set_frame_size(scratch, text);
          },
          "WIDTHxHEIGHT"));
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
    if (auto size = bench::set_frame_size(options->run, options->size); !size)
      return std::unexpected(std::move(size.error()));
    options->run.mode = options->mode == "fifo" ? PresentMode::fifo : PresentMode::mailbox;
    options->run.source =
        options->source == "camera" ? bench::FrameSource::camera : bench::FrameSource::render;
    auto report = bench::run_frames(options->run);
    if (!report) return std::unexpected(std::move(report.error()).with_context("frames"));
    bench::describe(*report, options->run).print(stdout, options->json);
    return report->torn == 0 && report->producer_exit == 0 ? kExitOk : kExitRuntimeError;
  };
}

}  // namespace zc::cli
