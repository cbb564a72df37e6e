#include "channel_bench.hpp"

#include <cstdio>

#include "bench/channel/channel_bench.hpp"
#include "bench/channel/channel_bench_nats.hpp"
#include "zcopy/core/units.hpp"

namespace zc::cli {

CommandResult run_channel_bench(const ChannelBenchSettings& settings) {
  auto print = [&](const JsonRecord& record) {
    if (!settings.json) return;
    std::puts(record.str().c_str());
    std::fflush(stdout);
  };
  auto report = [&]() -> Result<bench::Report> {
    if (!settings.nats) {
      return bench::run_channel_bench({.sizes = settings.sizes, .seconds = settings.seconds},
                                      print);
    }
    bench::NatsBenchConfig config{.sizes = {4 * kKiB, 64 * kKiB, kMiB},
                                  .subscribers = {1, 2, 4, 8},
                                  .seconds = settings.seconds};
    if (settings.quick) config = {.sizes = {4 * kKiB}, .subscribers = {1, 2}, .seconds = 0.3};
    if (settings.sizes_given) config.sizes = settings.sizes;
    return bench::run_nats_bench(config, print);
  }();
  if (!report) return std::unexpected(report.error());
  if (!settings.json) std::fputs(report->text.c_str(), stdout);
  return kExitOk;
}

}  // namespace zc::cli
