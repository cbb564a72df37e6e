#include "get_bench.hpp"

#include <cstdio>

#include "bench/http/get_bench.hpp"

namespace zc::cli {

CommandResult run_get_bench(const GetBenchSettings& settings) {
  const bench::GetBenchConfig config{.size = settings.size,
                                     .repeats = settings.repeats,
                                     .directory = settings.directory,
                                     .https = true};
  auto figures = bench::run_get_bench(config);
  if (!figures) return std::unexpected(figures.error());
  bench::describe(*figures, config).print(stdout, settings.json);
  return kExitOk;
}

}  // namespace zc::cli
