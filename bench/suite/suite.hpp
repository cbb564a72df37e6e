// bench/suite/suite.hpp: `zcopy bench`: every module's benchmark beside its peers in one run.
//
// The run measures what a CPU copy costs on this machine, runs each part (part.hpp) as far as
// the machine allows, compares every row of ours with the best peer row of the same bench and
// size, checks every ledger against the CPU its process spent (ledger_check.hpp), and writes to
// the output directory results.json (bench/report/results.schema.json), the plots as PNG and SVG
// (bench/report/plot.py, run with Debian's python3 and matplotlib) and report.html, which holds
// everything inline and opens without a network.
//
//   auto result = zc::bench::run_suite({.full = false, .out_dir = "out", .tool = zcopy});
//   zc::bench::describe(*result, config).print(stdout, config.json);
#pragma once

#include <string>
#include <vector>

#include "bench/suite/copy_cost.hpp"
#include "bench/suite/machine.hpp"
#include "bench/suite/part.hpp"
#include "bench/support/report.hpp"

namespace zc::bench {

struct PartStatus {
  std::string module;
  std::string what;
  std::string status;  // "ran", "skipped" (the machine lacks something), "failed"
  std::string reason{};
  double seconds = 0;
  std::vector<std::string> notes{};
};

struct PlotFile {
  std::string module;
  std::string png;  // relative to the output directory
  std::string svg;
  std::string title;
};

struct SuiteResult {
  std::string mode;     // "quick" or "full"
  std::string started;  // UTC, ISO 8601
  double seconds = 0;
  Machine machine;
  CopyCost copy_cost;
  std::vector<PartStatus> parts;
  std::vector<Measurement> rows;
  std::vector<PlotFile> plots;
  std::string plot_error{};  // why there are no plots, when there are none

  bool any_failed() const;
  // Rows of ours that trail the best peer of their bench and size.
  std::vector<const Measurement*> trailing() const;
};

// The module names --only accepts.
std::vector<std::string> suite_modules();

// Usage error for an unknown --only module; otherwise the run, written to config.out_dir.
Result<SuiteResult> run_suite(const SuiteConfig& config);

// Sets versus and versus_ratio on rows of ours and baselines: against the best peer row of the
// same bench and size.
void compare_with_peers(std::vector<Measurement>& rows);

// The table the command prints at the end: one line per row, with the trailing rows listed first.
std::string summary_table(const SuiteResult& result);

// What the command prints at the end: the summary table and where the files went, or with
// config.json one record per row.
Report describe(const SuiteResult& result, const SuiteConfig& config);

// The run's verdict: an error naming every failed part, or saying why there are no plots.
Result<void> verdict(const SuiteResult& result);

// results.json (suite_json.cpp) and report.html (suite_html.cpp).
std::string results_json(const SuiteResult& result);
std::string report_html(const SuiteResult& result, const std::string& out_dir);

}  // namespace zc::bench
