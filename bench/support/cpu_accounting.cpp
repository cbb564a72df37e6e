#include "bench/support/cpu_accounting.hpp"

#include <unistd.h>

#include <sstream>
#include <string>

#include "bench/support/data.hpp"

namespace zc::bench {
namespace {

double ticks_per_second() {
  return static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace

CpuTime process_cpu(pid_t pid) {
  const std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  // The command name may hold spaces and parentheses: the fields start after the last ')'.
  const std::size_t close = stat.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream fields(stat.substr(close + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;  // fields 3..13
  double utime = 0;
  double stime = 0;
  fields >> utime >> stime;
  return {.user_s = utime / ticks_per_second(), .system_s = stime / ticks_per_second()};
}

CpuTime process_tree_cpu(pid_t pid) {
  CpuTime total = process_cpu(pid);
  const std::string id = std::to_string(pid);
  std::istringstream children(read_text("/proc/" + id + "/task/" + id + "/children"));
  for (pid_t child = 0; children >> child;) {
    const CpuTime c = process_cpu(child);
    total.user_s += c.user_s;
    total.system_s += c.system_s;
  }
  return total;
}

double softirq_seconds(int cpu) {
  std::istringstream stat(read_text("/proc/stat"));
  const std::string want = cpu < 0 ? "cpu" : "cpu" + std::to_string(cpu);
  for (std::string line; std::getline(stat, line);) {
    std::istringstream fields(line);
    std::string name;
    fields >> name;
    if (name != want) continue;
    double value = 0;
    for (int i = 0; i < 7; ++i) fields >> value;  // user nice system idle iowait irq softirq
    return value / ticks_per_second();
  }
  return 0;
}

CpuPlan server_client_cpus() {
  if (::sysconf(_SC_NPROCESSORS_ONLN) >= 2) return {.server = 0, .client = 1};
  return {};
}

}  // namespace zc::bench
