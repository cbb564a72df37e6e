// bench/fs/fio_job.hpp: one fio job of 4 KiB psync I/O on one file, run for a fixed time, and
// the IOPS it reached (from fio's JSON output).
//
//   auto iops = zc::bench::run_fio({.file = path, .rw = "randwrite", .size = size,
//                                   .seconds = 3, .output = scratch + "/fio.json"});
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "zcopy/core/error.hpp"

namespace zc::bench {

struct FioJob {
  std::string file{};
  std::string rw{};  // randread or randwrite
  std::uint64_t size = 0;
  unsigned seconds = 3;
  std::string output{};              // where fio writes its JSON
  std::vector<std::string> extra{};  // more fio options
};

// IOPS of the job's reads (randread) or writes (randwrite).
Result<double> run_fio(const FioJob& job);

}  // namespace zc::bench
