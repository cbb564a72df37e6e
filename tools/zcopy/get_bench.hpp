// tools/zcopy/get_bench.hpp: `zcopy get --bench`: get into a file against curl, same nginx, same
// run. The measuring is bench/http/get_bench.hpp; this prints it.
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
};

// Medians of throughput and client CPU seconds per GB: splice, uring, copy and curl.
CommandResult run_get_bench(const GetBenchSettings& settings);

}  // namespace zc::cli
