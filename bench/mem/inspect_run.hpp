// bench/mem/inspect_run.hpp: one pinned buffer looked at closely, for `zcopy inspect`: where it
// sits in physical memory (the scatter-gather list a device would need) and what touching memory
// costs with and without pinning.
//
//   auto inspection = zc::bench::run_inspect({.size = 64 * zc::kMiB, .huge = true});
//   zc::bench::describe(*inspection, config).print(stdout, json);
#pragma once

#include <cstdint>

#include "bench/support/report.hpp"
#include "zcopy/core/error.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/mem/fault_profile.hpp"
#include "zcopy/mem/physical_layout.hpp"

namespace zc::bench {

struct InspectConfig {
  std::uint64_t size = 64 * kMiB;
  bool huge = false;  // transparent huge pages instead of base pages
};

struct Inspection {
  std::size_t size = 0;  // of the region, after rounding to its page size
  std::uint64_t pin_ns = 0;
  PhysicalLayout layout;
  FaultProfile pinned;
  FaultProfile first_touch;  // a fresh buffer of the same size and page kind, not pinned
};

Result<Inspection> run_inspect(const InspectConfig& config);

// Text: the layout, its first segments and the fault table; JSON: one physical-layout record and
// one fault-jitter record per buffer.
Report describe(const Inspection& inspection, const InspectConfig& config);

}  // namespace zc::bench
