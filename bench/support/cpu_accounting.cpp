#include "bench/support/cpu_accounting.hpp"

#include <unistd.h>

#include <sstream>
#include <string>

#include "bench/support/data.hpp"
#include "bench/support/process_counters.hpp"

namespace zc::bench {
namespace {

double ticks_per_second() {
  return static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace

CpuTime process_cpu(pid_t pid) {
  return read_counters(pid).cpu;
}

CpuTime process_tree_cpu(pid_t pid) {
  return read_counters(pid, {.tree = true}).cpu;
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
