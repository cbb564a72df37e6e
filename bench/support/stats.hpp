// bench/support/stats.hpp: what repeated runs and timed samples come to: the median and spread of
// a few runs, the percentiles of many samples.
//
//   const double rate = zc::bench::median(rates);   // the figure a table shows
//   const double noise = zc::bench::spread(rates);  // how far apart the runs landed
#pragma once

#include <cstdint>
#include <vector>

namespace zc::bench {

// The middle value (the mean of the two middle ones for an even count); 0 for none.
double median(std::vector<double> values);
// (largest - smallest) / median: 0.1 means the runs lay within 10 % of the median; 0 for fewer
// than two runs or a zero median.
double spread(const std::vector<double>& values);

struct Percentiles {
  std::uint64_t count = 0;
  double p50 = 0, p99 = 0, p999 = 0, max = 0;
};
// Of `samples` (sorted in place); all zero for none.
Percentiles percentiles(std::vector<double>& samples);

}  // namespace zc::bench
