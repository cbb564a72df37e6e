// bench/suite/benchmark_program.hpp: runs one of the Google Benchmark programs (bench/<module>/
// *_benchmark.cpp, built with ZCOPY_BUILD_BENCH) and reads its CSV output: one row per
// repetition, by benchmark name, with every column (counters included) as a number.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "zcopy/core/error.hpp"

namespace zc::bench {

struct BenchmarkRuns {
  // "BM_SpscRing/real_time" -> one map of column -> value per repetition (aggregates left out).
  std::map<std::string, std::vector<std::map<std::string, double>>> runs;
  // The median over the repetitions of `column` for `name`, or 0.
  double median_of(const std::string& name, const std::string& column) const;
  double spread_of(const std::string& name, const std::string& column) const;
  std::vector<double> values(const std::string& name, const std::string& column) const;
};

// `program` in `dir` with --benchmark_repetitions=`repetitions` and --benchmark_min_time=
// `min_time_s`, and --benchmark_filter=`filter` unless it is empty. capability_missing when the
// program was not built there.
Result<BenchmarkRuns> run_google_benchmark(const std::string& dir, const std::string& program,
                                           unsigned repetitions, double min_time_s,
                                           const std::string& filter = {});

}  // namespace zc::bench
