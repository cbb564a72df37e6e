// tools/zcopy/get_bench.hpp: `zcopy get --bench`: get into a file against curl, same nginx, same
// run; `zcopy get --bench-tree`: get -r of many small files against wget -r. The measuring is
// bench/http/get_bench.hpp and get_tree_bench.hpp; this prints it.
#pragma once

#include <cstdint>
#include <string>

#include "command.hpp"
#include "zcopy/core/units.hpp"

namespace zc::cli {

struct GetBenchSettings {
  std::uint64_t size = 2 * kGiB;
  unsigned repeats = 5;
  std::string directory;  // empty: a fresh directory under /tmp, removed afterwards
  bool json = false;
  std::uint64_t tree_files = 10000;  // --bench-tree: files in the generated tree
};

// Medians of throughput and client CPU seconds per GB: splice, uring, copy and curl.
CommandResult run_get_bench(const GetBenchSettings& settings);

// `zcopy get --bench-tree`: files per second of get -r (one connection and -j 8) against wget -r.
CommandResult run_get_tree_bench(const GetBenchSettings& settings);

}  // namespace zc::cli
