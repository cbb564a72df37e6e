#include "channel_bench.hpp"

#include <cstdio>

#include "bench/channel/channel_bench.hpp"

namespace zc::cli {

CommandResult run_channel_bench(const ChannelBenchSettings& settings) {
  auto report = bench::run_channel_bench({.sizes = settings.sizes, .seconds = settings.seconds},
                                         [&](const JsonRecord& record) {
                                           if (!settings.json) return;
                                           std::puts(record.str().c_str());
                                           std::fflush(stdout);
                                         });
  if (!report) return std::unexpected(report.error());
  if (!settings.json) std::fputs(report->text.c_str(), stdout);
  return kExitOk;
}

}  // namespace zc::cli
