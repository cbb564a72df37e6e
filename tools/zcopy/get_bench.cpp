#include "get_bench.hpp"

#include <algorithm>
#include <cstdio>

#include "bench/http/get_bench.hpp"
#include "bench/http/get_tree_bench.hpp"
#include "bench/support/process.hpp"

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

CommandResult run_get_tree_bench(const GetBenchSettings& settings) {
  const bench::GetTreeBenchConfig config{
      .tool = bench::self_executable(),
      .files = settings.tree_files,
      .directories = std::max<std::uint64_t>(1, settings.tree_files / 100),
      .repeats = settings.repeats,
      .directory = settings.directory};
  auto figures = bench::run_get_tree_bench(config);
  if (!figures) return std::unexpected(figures.error());
  bench::describe(*figures, config).print(stdout, settings.json);
  return kExitOk;
}

}  // namespace zc::cli
