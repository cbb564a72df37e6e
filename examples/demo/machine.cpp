// `zcopy demo` section 1: what the machine supports, each kernel facility probed for real.
#include <cstdio>
#include <string>
#include <vector>

#include "examples/demo/sections.hpp"
#include "zcopy/core/capabilities.hpp"

namespace zc::demo {

Result<void> demo_machine(const DemoSettings&) {
  demo_heading(1, "What this machine supports",
               "Each kernel facility zcopy uses, probed for real ('zcopy doctor' shows why).");
  std::vector<std::string> missing;
  std::size_t available = 0;
  for (const Probe& p : probe_all()) {
    if (p.available) {
      ++available;
    } else {
      missing.push_back(std::string(name(p.capability)) + ": " + p.detail);
    }
  }
  std::printf("   %zu of %zu facilities available\n", available, available + missing.size());
  for (const std::string& line : missing) std::printf("   missing %s\n", line.c_str());
  return {};
}

}  // namespace zc::demo
