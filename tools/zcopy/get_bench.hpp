// tools/zcopy/get_bench.hpp: `zcopy get --bench`: get into a file against curl, same nginx, same
// run.
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

// Starts Debian's nginx (sendfile on) on a free loopback port serving a generated file, warms the
// page cache, then fetches the file `repeats` times by splice, uring, copy and with curl,
// interleaved, and prints the medians: throughput and CPU seconds per GB of the client (ours from
// getrusage of this process, curl's from getrusage of its child).
CommandResult run_get_bench(const GetBenchSettings& settings);

}  // namespace zc::cli
