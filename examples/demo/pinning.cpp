// `zcopy demo` section 4: pinned, pre-faulted memory against page-fault jitter: touching a fresh
// buffer faults on every page, a pinned one never does.
#include "bench/support/table.hpp"
#include "examples/demo/sections.hpp"
#include "zcopy/core/transfer_ledger.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/mem/fault_profile.hpp"
#include "zcopy/mem/region.hpp"

namespace zc::demo {
namespace {

using bench::Table;

std::vector<std::string> fault_row(const char* label, const FaultProfile& profile) {
  return {label,
          std::to_string(profile.minor_faults),
          format_nanos(static_cast<double>(profile.p50_ns)),
          format_nanos(static_cast<double>(profile.p99_ns)),
          format_nanos(static_cast<double>(profile.max_ns)),
          format_nanos(static_cast<double>(profile.total_ns))};
}

}  // namespace

Result<void> demo_pinning(const DemoSettings& settings) {
  demo_heading(
      4, "Pinning against page-fault jitter",
      "Touching fresh memory faults on every page; a pinned, pre-faulted buffer never faults.");
  auto fresh = Region::create_anonymous(settings.size_bytes);
  if (!fresh) return std::unexpected(fresh.error());
  auto fresh_profile = profile_first_touch(fresh->bytes());
  if (!fresh_profile) return std::unexpected(fresh_profile.error());

  auto pinned = Region::create_anonymous(settings.size_bytes);
  if (!pinned) return std::unexpected(pinned.error());
  const CpuStopwatch pin_clock;
  if (auto ok = pinned->pin(); !ok) return std::unexpected(ok.error());
  const double pin_ns = pin_clock.wall_s() * 1e9;
  auto pinned_profile = profile_first_touch(pinned->bytes());
  if (!pinned_profile) return std::unexpected(pinned_profile.error());

  Table table({"buffer (" + format_bytes(settings.size_bytes) + ")", "minor faults", "p50/page",
               "p99/page", "max/page", "whole pass"});
  table.add_row(fault_row("fresh: first touch", *fresh_profile));
  table.add_row(fault_row("pinned: mlock + pre-fault", *pinned_profile));
  table.print(stdout);
  std::printf("\n   pin() paid the faults up front, once: %s.\n", format_nanos(pin_ns).c_str());
  return {};
}

}  // namespace zc::demo
