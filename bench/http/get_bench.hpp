// bench/http/get_bench.hpp: `zcopy get` into a file against curl, from the same nginx, in one run.
//
// Debian's nginx (sendfile on) serves a generated file on a free loopback port; after a warm-up
// (the source into the page cache, every path once) the file is fetched `repeats` times by
// splice, uring, copy and with curl, interleaved, the order rotating every repeat so that no
// method always runs right after another's writeback. Neither side fsyncs, so both measure
// network to page cache. Our CPU is the download's own ledger (this process); curl's is its
// rusage, reaped.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/support/report.hpp"
#include "zcopy/core/error.hpp"
#include "zcopy/core/units.hpp"

namespace zc::bench {

struct GetBenchConfig {
  std::uint64_t size = 2 * kGiB;
  unsigned repeats = 5;
  std::string directory{};  // empty: a fresh directory under /tmp, removed afterwards
};

struct GetFigures {
  std::string method{};  // splice, uring, copy, curl
  double bytes_per_s = 0;
  double cpu_s_per_gb = 0;
  double throughput_spread = 0;
};

// The medians, in the order splice, uring, copy, curl.
Result<std::vector<GetFigures>> run_get_bench(const GetBenchConfig& config);

// A get-file record per method and a table, each method also against curl (the last).
Report describe(const std::vector<GetFigures>& figures, const GetBenchConfig& config);

}  // namespace zc::bench
