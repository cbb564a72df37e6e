// bench/suite/machine.hpp: the machine a report was measured on: CPU model, cores, caches,
// kernel, memory, the load when the run started and ended, whether hardware counters and kernel
// function tracing are allowed, and every capability `zcopy doctor` probes.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "zcopy/core/json_record.hpp"

namespace zc::bench {

struct Machine {
  std::string cpu_model;
  int cores = 0;
  std::vector<std::string> caches;  // "L1d 32 KiB", "L2 512 KiB", ...
  std::string kernel;
  std::string memory;         // "23.4 GiB"
  std::string load_at_start;  // the three /proc/loadavg figures
  std::string load_at_end;
  std::string hardware_counters;                                  // "available" or why not
  std::string function_tracing;                                   // "available" or why not
  std::vector<std::pair<std::string, std::string>> capabilities;  // id, "ok" or why missing

  void finish() { load_at_end = load_average(); }
  static std::string load_average();
  JsonRecord record() const;
};

Machine describe_machine();

}  // namespace zc::bench
