#include "bench/suite/benchmark_program.hpp"

#include <cstdlib>
#include <sstream>

#include "bench/support/process.hpp"
#include "bench/support/stats.hpp"

namespace zc::bench {
namespace {

// Splits one CSV line; fields may be quoted (names and counter headers are).
std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (const char c : line) {
    if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

bool is_aggregate(const std::string& name) {
  for (const char* suffix : {"_mean", "_median", "_stddev", "_cv"}) {
    const std::string s(suffix);
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0)
      return true;
  }
  return false;
}

}  // namespace

std::vector<double> BenchmarkRuns::values(const std::string& name,
                                          const std::string& column) const {
  std::vector<double> out;
  const auto it = runs.find(name);
  if (it == runs.end()) return out;
  for (const auto& row : it->second) {
    const auto value = row.find(column);
    if (value != row.end()) out.push_back(value->second);
  }
  return out;
}

double BenchmarkRuns::median_of(const std::string& name, const std::string& column) const {
  return median(values(name, column));
}

double BenchmarkRuns::spread_of(const std::string& name, const std::string& column) const {
  return spread(values(name, column));
}

Result<BenchmarkRuns> run_google_benchmark(const std::string& dir, const std::string& program,
                                           unsigned repetitions, double min_time_s,
                                           const std::string& filter) {
  const std::string path = dir + "/" + program;
  if (!have_program(path))
    return fail(Errc::capability_missing, program,
                "not built in " + dir + " (configure with -DZCOPY_BUILD_BENCH=ON)");
  char min_time[64];
  std::snprintf(min_time, sizeof min_time, "--benchmark_min_time=%g", min_time_s);
  // Its stdout is the CSV; its stderr (the machine's description) would break a progress line.
  std::vector<std::string> argv{path, "--benchmark_format=csv", min_time,
                                "--benchmark_repetitions=" + std::to_string(repetitions)};
  if (!filter.empty()) argv.push_back("--benchmark_filter=" + filter);
  auto child = Process::spawn(argv, {.out = Output::pipe, .err = Output::null});
  if (!child) return std::unexpected(child.error());
  const std::string output = child->read_all();
  if (const Exit done = child->wait(); !done.ok())
    return fail(Errc::system, program, "exited with " + std::to_string(done.code));
  BenchmarkRuns out;
  std::istringstream lines(output);
  std::vector<std::string> header;
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> fields = split_csv(line);
    if (header.empty()) {
      if (!fields.empty() && fields.front() == "name") header = std::move(fields);
      continue;
    }
    if (fields.size() < 2 || is_aggregate(fields.front())) continue;
    std::map<std::string, double> row;
    for (std::size_t i = 1; i < fields.size() && i < header.size(); ++i) {
      if (fields[i].empty()) continue;
      char* end = nullptr;
      const double value = std::strtod(fields[i].c_str(), &end);
      if (end != fields[i].c_str()) row[header[i]] = value;
    }
    out.runs[fields.front()].push_back(std::move(row));
  }
  if (out.runs.empty()) return fail(Errc::corrupt, program, "no benchmark rows in its output");
  return out;
}

}  // namespace zc::bench
