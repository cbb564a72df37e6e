#include "bench/suite/suite.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>

#include "bench/suite/ledger_check.hpp"
#include "bench/suite/progress.hpp"
#include "bench/support/data.hpp"
#include "bench/support/process.hpp"
#include "bench/support/report.hpp"
#include "bench/support/table.hpp"
#include "zcopy/core/units.hpp"

namespace zc::bench {
namespace {

namespace fs = std::filesystem;

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

bool selected(const SuiteConfig& c, const std::string& module) {
  return c.only.empty() || std::find(c.only.begin(), c.only.end(), module) != c.only.end();
}

// Testing the ledger check: the rows of `method` claim no copy at all.
void claim_zero_copies(std::vector<Measurement>& rows, const std::string& method) {
  for (Measurement& row : rows) {
    if (row.method != method || !row.ledger) continue;
    row.ledger->bytes_zero_copy = row.ledger->bytes;
    row.ledger->bytes_copied_user = 0;
    row.ledger->bytes_copied_kernel = 0;
    row.note += std::string(row.note.empty() ? "" : "; ") +
                "ledger replaced by one claiming zero copies (--claim-zero-copies)";
  }
}

Result<void> write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return fail(Errc::system, "write " + path, "could not write the file");
  return {};
}

// The configured python when it imports matplotlib, else python3 in PATH when that one does
// (a pyenv or venv python first in PATH usually lacks Debian's modules); empty when neither does.
std::string python_with_matplotlib(const std::string& preferred) {
  for (const std::string& python : {preferred, std::string("python3")}) {
    if (!have_program(python)) continue;
    if (zc::bench::run({python, "-c", "import matplotlib"}).exit_code == 0) return python;
  }
  return {};
}

// Runs the plotting script; its index.tsv lists "module<TAB>name<TAB>title" per plot.
void make_plots(const SuiteConfig& c, SuiteResult& result) {
  const std::string dir = c.out_dir + "/plots";
  fs::create_directories(dir);
  if (c.plot_script.empty() || !fs::exists(c.plot_script)) {
    result.plot_error = "the plotting script was not found (" + c.plot_script + ")";
    return;
  }
  const std::string python = python_with_matplotlib(c.python);
  if (python.empty()) {
    result.plot_error = "no python3 with matplotlib: neither " + c.python +
                        " nor python3 in PATH imports it (scripts/install-deps.sh installs "
                        "python3-matplotlib)";
    return;
  }
  const RunResult run = zc::bench::run({python, c.plot_script, c.out_dir + "/results.json", dir});
  if (run.exit_code != 0) {
    // One line: the script's own reason, or the exception that ends a traceback.
    std::string output = run.output;
    while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
    output = output.substr(output.rfind('\n') == std::string::npos ? 0 : output.rfind('\n') + 1);
    result.plot_error = "plot.py exited with " + std::to_string(run.exit_code) + ": " + output;
    return;
  }
  std::ifstream index(dir + "/index.tsv");
  for (std::string line; std::getline(index, line);) {
    const std::size_t a = line.find('\t');
    const std::size_t b = a == std::string::npos ? a : line.find('\t', a + 1);
    if (b == std::string::npos) continue;
    const std::string name = line.substr(a + 1, b - a - 1);
    result.plots.push_back({.module = line.substr(0, a),
                            .png = "plots/" + name + ".png",
                            .svg = "plots/" + name + ".svg",
                            .title = line.substr(b + 1)});
  }
  if (result.plots.empty()) result.plot_error = "plot.py made no plots";
}

}  // namespace

bool SuiteResult::any_failed() const {
  return std::any_of(parts.begin(), parts.end(),
                     [](const PartStatus& p) { return p.status == "failed"; });
}

std::vector<const Measurement*> SuiteResult::trailing() const {
  std::vector<const Measurement*> out;
  for (const Measurement& row : rows)
    if (row.side == Side::ours && row.versus_ratio && *row.versus_ratio < 1.0) out.push_back(&row);
  return out;
}

std::vector<std::string> suite_modules() {
  std::vector<std::string> names;
  for (const Part& p : parts()) names.emplace_back(p.module);
  return names;
}

void compare_with_peers(std::vector<Measurement>& rows) {
  for (Measurement& row : rows) {
    if (row.side == Side::peer || !row.main_value()) continue;
    const Measurement* best = nullptr;
    for (const Measurement& other : rows) {
      if (other.side != Side::peer || other.bench != row.bench ||
          other.size_bytes != row.size_bytes || !other.main_value() || *other.main_value() <= 0)
        continue;
      if (best == nullptr || (row.higher_is_better() ? *other.main_value() > *best->main_value()
                                                     : *other.main_value() < *best->main_value()))
        best = &other;
    }
    if (best == nullptr || *row.main_value() <= 0) continue;
    row.versus = best->method;
    row.versus_ratio = row.higher_is_better() ? *row.main_value() / *best->main_value()
                                              : *best->main_value() / *row.main_value();
  }
}

Result<SuiteResult> run_suite(const SuiteConfig& c) {
  const std::vector<std::string> known = suite_modules();
  for (const std::string& name : c.only) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string list;
      for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
      return fail(Errc::usage, "bench --only",
                  "unknown module '" + name + "' (known: " + list + ")");
    }
  }
  std::error_code made;
  fs::create_directories(c.out_dir, made);
  if (made) return fail_errno(made.value(), "mkdir " + c.out_dir);

  SuiteResult result;
  result.mode = c.full ? "full" : "quick";
  result.started = utc_now();
  const auto start = std::chrono::steady_clock::now();
  result.machine = describe_machine();

  std::vector<const Part*> chosen;
  std::vector<Progress::Step> steps{{"copy cost", 2}};
  for (const Part& p : parts()) {
    if (!selected(c, p.module)) continue;
    chosen.push_back(&p);
    steps.push_back({p.module, c.full ? p.full_s : p.quick_s});
  }
  steps.push_back({"plots", 8});
  {
    Progress progress(steps);
    progress.begin(0);
    result.copy_cost = measure_copy_cost({.region = c.full ? 512 * kMiB : 128 * kMiB});
    progress.end(0, "done");
    for (std::size_t i = 0; i < chosen.size(); ++i) {
      const Part& p = *chosen[i];
      progress.begin(i + 1);
      const auto part_start = std::chrono::steady_clock::now();
      PartStatus status{.module = p.module, .what = p.what, .status = "ran"};
      auto out = p.run(c);
      status.seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - part_start).count();
      if (out) {
        status.notes = out->notes;
        result.rows.insert(result.rows.end(), out->rows.begin(), out->rows.end());
      } else {
        status.status = out.error().code() == Errc::capability_missing ? "skipped" : "failed";
        status.reason = out.error().message();
      }
      progress.end(i + 1, status.status == "ran" ? "done" : status.status + ": " + status.reason);
      result.parts.push_back(std::move(status));
    }
    if (!c.claim_zero_copies.empty()) claim_zero_copies(result.rows, c.claim_zero_copies);
    compare_with_peers(result.rows);
    check_ledgers(result.rows, result.copy_cost);
    result.machine.finish();
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::string json_path = c.out_dir + "/results.json";
    if (auto w = write_file(json_path, results_json(result)); !w) return std::unexpected(w.error());
    progress.begin(steps.size() - 1);
    make_plots(c, result);
    progress.end(steps.size() - 1,
                 result.plot_error.empty() ? "done" : "failed: " + result.plot_error);
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (auto w = write_file(c.out_dir + "/results.json", results_json(result)); !w)
    return std::unexpected(w.error());
  if (auto w = write_file(c.out_dir + "/report.html", report_html(result, c.out_dir)); !w)
    return std::unexpected(w.error());
  return result;
}

std::string summary_table(const SuiteResult& r) {
  auto figure = [](const Measurement& m) -> std::string {
    if (m.bytes_per_s) return format_rate(*m.bytes_per_s);
    if (m.ops_per_s) return fixed(*m.ops_per_s / 1e6, 3) + " M/s";
    if (m.latency_p50_ns) return "p50 " + format_nanos(*m.latency_p50_ns);
    return "-";
  };
  Table t({"module", "bench", "method", "side", "size", "figure", "CPU s/GB", "copies/B", "vs peer",
           "ledger"});
  for (const Measurement& m : r.rows) {
    t.add_row({m.module, m.bench, m.method, to_string(m.side),
               m.size_bytes > 0 ? format_bytes(m.size_bytes) : "-", figure(m),
               m.cpu_s_per_gb() ? fixed(*m.cpu_s_per_gb(), 3) : "-",
               m.ledger ? fixed(m.ledger->copies_per_byte(), 2) : "-",
               m.versus_ratio ? fixed(*m.versus_ratio, 2) + "x " + m.versus : "-",
               m.verdict.status == "disagrees" ? "LEDGER DISAGREES" : m.verdict.status});
  }
  std::string text = format_text("zcopy bench --%s: %zu measurements in %.0f s, load %s -> %s\n",
                                 r.mode.c_str(), r.rows.size(), r.seconds,
                                 r.machine.load_at_start.c_str(), r.machine.load_at_end.c_str());
  const auto trailing = r.trailing();
  if (trailing.empty()) {
    text += "zcopy trails no peer in this run\n";
  } else {
    text += "zcopy trails its peer in:\n";
    for (const Measurement* m : trailing)
      text += format_text("  %s %s %s (%s): %.2fx %s\n", m->module.c_str(), m->bench.c_str(),
                          m->method.c_str(), format_bytes(m->size_bytes).c_str(), *m->versus_ratio,
                          m->versus.c_str());
  }
  for (const PartStatus& p : r.parts)
    if (p.status != "ran")
      text += format_text("%s %s: %s\n", p.module.c_str(), p.status.c_str(), p.reason.c_str());
  text += t.str();
  return text;
}

Report describe(const SuiteResult& result, const SuiteConfig& config) {
  Report report;
  for (const Measurement& m : result.rows) report.records.push_back(m.record());
  report.text = summary_table(result) +
                format_text("wrote %s/results.json, %s/report.html and %zu plots\n",
                            config.out_dir.c_str(), config.out_dir.c_str(), result.plots.size());
  return report;
}

Result<void> verdict(const SuiteResult& result) {
  std::string failed;
  for (const PartStatus& p : result.parts)
    if (p.status == "failed") failed += (failed.empty() ? "" : "; ") + p.module + ": " + p.reason;
  if (!failed.empty()) return fail(Errc::system, "bench", failed);
  if (!result.plot_error.empty()) return fail(Errc::system, "bench plots", result.plot_error);
  return {};
}

}  // namespace zc::bench
