// bench/http/get_sources_bench.hpp: `zcopy get --bench-sources`: one file from three sources,
// zcopy against aria2c.
//
// Three network namespaces, each joined to this one by a veth pair and running nginx; each
// server's egress is shaped to the same rate R by a tc token bucket, so no source can give more
// than R whatever the client does. R is measured as curl's rate from one source. Then, alternating
// in each repeat, `zcopy get URL1 URL2 URL3 -o FILE` and `aria2c -s 3 -x 3 URL1 URL2 URL3` fetch
// the file, each as a child process whose wall time and CPU (rusage) are taken; every output is
// compared with the file.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "zcopy/core/error.hpp"
#include "zcopy/core/units.hpp"

namespace zc::bench {

struct GetSourcesBenchConfig {
  std::uint64_t size = 256 * kMiB;
  std::string rate = "80mbit";  // tc's spelling of R
  unsigned repeats = 3;
  std::string directory;  // empty: a fresh directory under /tmp
  std::string zcopy;      // the tool to run
};

struct GetSourcesBenchRow {
  std::string client;       // "zcopy" or "aria2c"
  double bytes_per_s = 0;   // median
  double cpu_s_per_gb = 0;  // median, user + system of the client process
  double spread = 0;        // of the rates
};

struct GetSourcesBenchResult {
  double single_source_bytes_per_s = 0;  // R as curl gets it from one source
  std::vector<GetSourcesBenchRow> rows;
};

// Needs root (namespaces, tc), nginx, curl; aria2c's row is left out when it is missing.
Result<GetSourcesBenchResult> run_get_sources_bench(const GetSourcesBenchConfig& config,
                                                    const std::atomic<bool>& stop);

}  // namespace zc::bench
