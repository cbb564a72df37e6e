// bench/suite/part.hpp: one module's share of `zcopy bench`: the module's own benchmark (each is
// run as it is, through its bench/<module> entry point), its peers beside it, and the rows it
// hands the suite. A part that cannot run here (no peer installed, no root, no FUSE) fails with
// Errc::capability_missing and the reason; the suite then shows it as skipped.
#pragma once

#include <string>
#include <vector>

#include "bench/suite/measurement.hpp"
#include "zcopy/core/error.hpp"

namespace zc::bench {

struct SuiteConfig {
  bool full = false;                // --full: the figures for docs; otherwise --quick
  std::vector<std::string> only{};  // modules to run; empty: all
  std::string out_dir{};
  std::string tool{};                       // the zcopy binary (servers run as `zcopy serve`)
  std::string programs_dir{};               // where the Google Benchmark programs were built
  std::string plot_script{};                // bench/report/plot.py
  std::string python = "/usr/bin/python3";  // Debian's, which has python3-matplotlib
  std::string claim_zero_copies{};  // testing the ledger check: record this method's copies as 0
  bool json = false;
};

struct PartOutput {
  std::vector<Measurement> rows{};
  std::vector<std::string> notes{};  // what could not be measured and why, what to know
};

struct Part {
  const char* module;
  const char* what;  // the one line the progress bar shows
  double quick_s;    // expected seconds, for the progress bar's estimate
  double full_s;
  Result<PartOutput> (*run)(const SuiteConfig& config);
};

// Every part, in the order they run.
const std::vector<Part>& parts();

// The parts (suite_parts.cpp lists them; each lives in part_<module>.cpp).
Result<PartOutput> run_mem_part(const SuiteConfig& config);
Result<PartOutput> run_ring_part(const SuiteConfig& config);
Result<PartOutput> run_channel_part(const SuiteConfig& config);
Result<PartOutput> run_net_part(const SuiteConfig& config);
Result<PartOutput> run_serve_part(const SuiteConfig& config);
Result<PartOutput> run_get_part(const SuiteConfig& config);
Result<PartOutput> run_get_sources_part(const SuiteConfig& config);
Result<PartOutput> run_mount_part(const SuiteConfig& config);
Result<PartOutput> run_secure_part(const SuiteConfig& config);
Result<PartOutput> run_xdp_part(const SuiteConfig& config);
Result<PartOutput> run_frame_part(const SuiteConfig& config);

}  // namespace zc::bench
