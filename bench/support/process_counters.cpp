#include "bench/support/process_counters.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <string_view>

#include "bench/support/data.hpp"

namespace zc::bench {
namespace {

std::uint64_t field_after(const std::string& text, std::string_view key) {
  const std::size_t at = text.find(key);
  if (at == std::string::npos) return 0;
  return std::strtoull(text.c_str() + at + key.size(), nullptr, 10);
}

double ticks_per_second() {
  return static_cast<double>(::sysconf(_SC_CLK_TCK));
}

ProcessCounters read_one(const std::string& dir) {
  ProcessCounters c;
  const std::string stat = read_text(dir + "/stat");
  // The command name may hold spaces and parentheses: the fields start after the last ')'.
  const std::size_t close = stat.rfind(')');
  if (close == std::string::npos) return c;
  std::istringstream fields(stat.substr(close + 2));
  std::string skip;
  for (int i = 3; i < 10; ++i) fields >> skip;  // fields 3..9
  std::uint64_t minflt = 0, cminflt = 0, majflt = 0, cmajflt = 0;
  double utime = 0, stime = 0;
  fields >> minflt >> cminflt >> majflt >> cmajflt >> utime >> stime;
  c.cpu = {.user_s = utime / ticks_per_second(), .system_s = stime / ticks_per_second()};
  c.minor_faults = minflt;
  c.major_faults = majflt;
  c.rss_bytes = field_after(read_text(dir + "/status"), "VmRSS:") * 1024;
  // Per thread: the process's status reports its main thread's context switches alone, and
  // schedstat is "on-CPU ns, waiting-on-a-runqueue ns, timeslices".
  std::error_code ignored;
  for (const auto& task : std::filesystem::directory_iterator(dir + "/task", ignored)) {
    const std::string status = read_text(task.path().string() + "/status");
    c.voluntary_switches += field_after(status, "\nvoluntary_ctxt_switches:");
    c.involuntary_switches += field_after(status, "nonvoluntary_ctxt_switches:");
    std::istringstream sched(read_text(task.path().string() + "/schedstat"));
    double on_cpu = 0, waiting = 0;
    if (sched >> on_cpu >> waiting) c.run_delay_s += waiting * 1e-9;
  }
  const std::string io = read_text(dir + "/io");
  c.io_readable = !io.empty();
  c.read_bytes = field_after(io, "rchar:");
  c.write_bytes = field_after(io, "wchar:");
  c.read_calls = field_after(io, "syscr:");
  c.write_calls = field_after(io, "syscw:");
  return c;
}

void add(ProcessCounters& total, const ProcessCounters& c) {
  total.cpu.user_s += c.cpu.user_s;
  total.cpu.system_s += c.cpu.system_s;
  total.minor_faults += c.minor_faults;
  total.major_faults += c.major_faults;
  total.voluntary_switches += c.voluntary_switches;
  total.involuntary_switches += c.involuntary_switches;
  total.read_bytes += c.read_bytes;
  total.write_bytes += c.write_bytes;
  total.read_calls += c.read_calls;
  total.write_calls += c.write_calls;
  total.rss_bytes += c.rss_bytes;
  total.run_delay_s += c.run_delay_s;
}

std::uint64_t minus(std::uint64_t a, std::uint64_t b) {
  return a > b ? a - b : 0;
}

}  // namespace

ProcessCounters ProcessCounters::operator-(const ProcessCounters& b) const noexcept {
  ProcessCounters d;
  d.cpu = {.user_s = cpu.user_s - b.cpu.user_s, .system_s = cpu.system_s - b.cpu.system_s};
  d.minor_faults = minus(minor_faults, b.minor_faults);
  d.major_faults = minus(major_faults, b.major_faults);
  d.voluntary_switches = minus(voluntary_switches, b.voluntary_switches);
  d.involuntary_switches = minus(involuntary_switches, b.involuntary_switches);
  d.read_bytes = minus(read_bytes, b.read_bytes);
  d.write_bytes = minus(write_bytes, b.write_bytes);
  d.read_calls = minus(read_calls, b.read_calls);
  d.write_calls = minus(write_calls, b.write_calls);
  d.run_delay_s = std::max(0.0, run_delay_s - b.run_delay_s);
  d.rss_bytes = rss_bytes;
  d.io_readable = io_readable && b.io_readable;
  return d;
}

ProcessCounters read_counters(pid_t pid, CounterScope scope) {
  const std::string id = std::to_string(pid);
  ProcessCounters total = read_one("/proc/" + id);
  if (!scope.tree) return total;
  std::istringstream children(read_text("/proc/" + id + "/task/" + id + "/children"));
  for (pid_t child = 0; children >> child;) add(total, read_one("/proc/" + std::to_string(child)));
  return total;
}

ProcessCounters read_own_counters() {
  return read_one("/proc/self");
}

}  // namespace zc::bench
