// The frame part: handing one frame from producer to compositor, at sizes from 64x64 to
// 3840x2160 RGBA (bench/frame/flip_cost_benchmark.cpp, the Google Benchmark program of the
// module, run as it is): the SwapChain flip (ours), a few atomic words whatever the size, against
// a compositor that copies each frame into its scan-out buffer (memcpy, the peer).
#include "bench/suite/benchmark_program.hpp"
#include "bench/suite/part.hpp"

namespace zc::bench {

Result<PartOutput> run_frame_part(const SuiteConfig& c) {
  auto runs = run_google_benchmark(c.programs_dir, "zcopy_frame_bench", c.full ? 5 : 3,
                                   c.full ? 0.5 : 0.02, "BM_FrameFlip|BM_FrameCopyCompositor");
  if (!runs) return std::unexpected(runs.error());
  PartOutput out;
  struct Variant {
    const char* benchmark;
    const char* method;
    Side side;
  };
  struct Size {
    std::uint64_t width, height;
  };
  for (const Size s : {Size{64, 64}, Size{640, 480}, Size{1920, 1080}, Size{3840, 2160}}) {
    const std::string args = "/" + std::to_string(s.width) + "/" + std::to_string(s.height);
    for (const Variant& v : {Variant{"BM_FrameFlip", "flip", Side::ours},
                             Variant{"BM_FrameCopyCompositor", "memcpy compositor", Side::peer}}) {
      const std::string name = v.benchmark + args;
      const std::vector<double> rates = runs->values(name, "items_per_second");
      if (rates.empty()) {
        out.notes.push_back(std::string(v.method) + " " + args.substr(1) + ": no result");
        continue;
      }
      const std::uint64_t bytes = s.width * s.height * 4;
      Measurement m{
          .module = "frame", .bench = "frame-handoff", .method = v.method, .side = v.side};
      m.size_bytes = bytes;
      m.unit_note = "RGBA frame; one hand-off from producer to compositor, on one thread";
      m.ops_per_s = runs->median_of(name, "items_per_second");
      // cpu_time is nanoseconds per hand-off (the benchmarks keep Google Benchmark's default
      // unit): over the frame's bytes, seconds per GB.
      m.cpu_total_s_per_gb = runs->median_of(name, "cpu_time") / static_cast<double>(bytes);
      m.cpu_of = "the benchmark's one thread";
      m.repetitions = static_cast<unsigned>(rates.size());
      m.spread = runs->spread_of(name, "items_per_second");
      m.note = std::to_string(s.width) + "x" + std::to_string(s.height);
      out.rows.push_back(m);
    }
  }
  return out;
}

}  // namespace zc::bench
