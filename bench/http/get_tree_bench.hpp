// bench/http/get_tree_bench.hpp: `zcopy get -r` against `wget -r` on a tree of many small files,
// from the same `zcopy serve`, in one run.
//
// A generated tree (files of 0 to max_size random bytes spread over `directories`) is served by
// `zcopy serve` (a child of this binary) on a free loopback port. After one warm-up of each
// client, the tree is mirrored `repeats` times by `zcopy get -r` with one connection, by
// `zcopy get -r -j 8`, and by `wget -r -np -nH` (one keep-alive connection), interleaved, the
// order rotating every repeat, each into an empty directory. Each is a child process timed from
// start to exit; its rate is files per second of that wall time. Ours runs with its defaults
// (--sync=auto, which for -r is one syncfs before it reports success); wget never syncs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/support/report.hpp"
#include "zcopy/core/error.hpp"

namespace zc::bench {

struct GetTreeBenchConfig {
  std::string tool;  // the zcopy binary
  std::uint64_t files = 10000;
  std::uint64_t directories = 100;
  std::uint64_t max_size = 20 * 1024;  // each file 0..max_size bytes
  unsigned repeats = 3;
  std::string directory{};  // empty: a fresh directory under /tmp, removed afterwards
};

struct GetTreeFigures {
  std::string client;  // "zcopy get -r", "zcopy get -r -j 8", "wget -r"
  double files_per_s = 0;
  double bytes_per_s = 0;
  double spread = 0;  // of files_per_s over the repeats
  double cpu_s = 0;   // the client's user + system CPU, median
};

Result<std::vector<GetTreeFigures>> run_get_tree_bench(const GetTreeBenchConfig& config);

// A get-tree record per client and a table, each against wget's rate.
Report describe(const std::vector<GetTreeFigures>& figures, const GetTreeBenchConfig& config);

}  // namespace zc::bench
