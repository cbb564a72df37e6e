// bench/suite/copy_cost.hpp: what one CPU copy of a byte costs on this machine, measured in the
// same run as everything it is used to check: memcpy in chunks of a few sizes, warm (the same
// chunk again and again, in cache) and cold (chunks streamed through a region larger than the
// caches), in CPU seconds per 10^9 bytes; and what one trivial system call costs.
//
//   const zc::bench::CopyCost cost = zc::bench::measure_copy_cost({.region = 256 * zc::kMiB});
//   double cheapest = cost.lower_s_per_gb;   // the least a copy ever cost here
#pragma once

#include <cstdint>
#include <vector>

#include "zcopy/core/json_record.hpp"
#include "zcopy/core/units.hpp"

namespace zc::bench {

struct CopyCostPoint {
  std::uint64_t chunk = 0;
  double warm_s_per_gb = 0;
  double cold_s_per_gb = 0;
};

struct CopyCost {
  std::vector<CopyCostPoint> points{};
  double lower_s_per_gb = 0;  // the cheapest copy measured (warm, chunks of 64 KiB and more)
  double upper_s_per_gb = 0;  // the dearest (cold, worst chunk size)
  double syscall_s = 0;       // one getppid(2), entry and exit
};

struct CopyCostConfig {
  std::uint64_t region = 256 * kMiB;  // the cold copies stream through this much, each way
  std::vector<std::uint64_t> chunks{4 * kKiB, 64 * kKiB, kMiB};
  unsigned passes = 3;  // the best of these per point: interference only ever adds time
};

CopyCost measure_copy_cost(const CopyCostConfig& config);

// One record per chunk size, bench "copy-cost", for results.json.
std::vector<JsonRecord> records(const CopyCost& cost);

}  // namespace zc::bench
