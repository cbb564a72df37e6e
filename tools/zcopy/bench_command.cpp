// zcopy bench: every module's benchmark beside its peers in one run, each copy ledger checked
// against the CPU its process spent, written to a directory as results.json, plots and a
// self-contained report.html (bench/suite/suite.hpp does the work).
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bench/suite/suite.hpp"
#include "bench/support/process.hpp"
#include "command.hpp"

namespace zc::cli {
namespace {

namespace fs = std::filesystem;

struct BenchOptions {
  bool quick = false;
  bool full = false;
  std::vector<std::string> only;
  std::string out = "zcopy-bench";
  std::string programs;
  std::string plot_script;
  std::string claim_zero_copies;
  bool json = false;
};

// Installed: PREFIX/share/zcopy/plot.py beside PREFIX/bin/zcopy; in a build tree, the source's.
std::string default_plot_script(const fs::path& exe_dir) {
  const fs::path installed = exe_dir / "../share/zcopy/plot.py";
  if (fs::exists(installed)) return installed.lexically_normal().string();
  return std::string(ZCOPY_BENCH_REPORT_DIR) + "/plot.py";
}

CommandResult run_bench(const BenchOptions& o) {
  const fs::path exe = bench::self_executable();
  bench::SuiteConfig config{
      .full = o.full,
      .only = o.only,
      .out_dir = o.out,
      .tool = exe.string(),
      .programs_dir = o.programs.empty()
                          ? (exe.parent_path() / "../bench").lexically_normal().string()
                          : o.programs,
      .plot_script = o.plot_script.empty() ? default_plot_script(exe.parent_path()) : o.plot_script,
      .claim_zero_copies = o.claim_zero_copies,
      .json = o.json};
  auto result = bench::run_suite(config);
  if (!result) return std::unexpected(result.error());
  bench::describe(*result, config).print(stdout, o.json);
  std::fflush(stdout);
  if (auto verdict = bench::verdict(*result); !verdict) return std::unexpected(verdict.error());
  return kExitOk;
}

}  // namespace

CommandRunner add_bench_command(CLI::App& sub) {
  auto o = std::make_shared<BenchOptions>();
  auto* quick = sub.add_flag("--quick", o->quick, "A short run, within 3 minutes (the default)");
  sub.add_flag("--full", o->full, "The figures for docs/PERFORMANCE.md, within 20 minutes")
      ->excludes(quick);
  std::string modules;
  for (const std::string& m : bench::suite_modules()) modules += (modules.empty() ? "" : ",") + m;
  sub.add_option("--only", o->only, "Run these modules only (" + modules + ")")
      ->delimiter(',')
      ->type_name("MODULE[,MODULE]");
  sub.add_option("--out", o->out, "Directory for results.json, report.html and plots/")
      ->capture_default_str();
  sub.add_option("--programs", o->programs,
                 "Where zcopy_mem_bench, zcopy_ring_bench and zcopy_frame_bench are (default: "
                 "../bench beside zcopy)");
  sub.add_option("--plot-script", o->plot_script,
                 "The plotting script (default: plot.py of zcopy)");
  sub.add_flag("--json", o->json, "One JSON record per measurement instead of the table");
  // Shows that the ledger check can fail: the rows of METHOD claim no copies at all.
  sub.add_option("--claim-zero-copies", o->claim_zero_copies)->group("");
  return [o] { return run_bench(*o); };
}

}  // namespace zc::cli
