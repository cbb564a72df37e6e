// `zcopy demo` sections 4 and 5: pinned, pre-faulted memory against page-fault jitter, and the
// physical scatter-gather layout of a pinned buffer on 4 KiB pages and on huge pages.
#include "bench/support/table.hpp"
#include "demo_process.hpp"
#include "demo_sections.hpp"
#include "zcopy/core/capabilities.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/mem/fault_profile.hpp"
#include "zcopy/mem/physical_layout.hpp"
#include "zcopy/mem/region.hpp"

namespace zc::cli {
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

std::vector<std::string> layout_row(const char* label, const PhysicalLayout& layout) {
  return {label, std::to_string(layout.pages), std::to_string(layout.segments.size()),
          format_bytes(layout.largest_segment()),
          layout.huge_backed ? std::to_string(*layout.huge_backed) : "unknown"};
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
  Stopwatch pin_clock;
  if (auto ok = pinned->pin(); !ok) return std::unexpected(ok.error());
  const double pin_ns = pin_clock.elapsed_ns();
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

Result<void> demo_physical_layout(const DemoSettings& settings) {
  demo_heading(
      5, "Physical layout: the scatter-gather list a device would be handed",
      "Virtually contiguous memory is physically scattered; huge pages cut the segment count.");
  if (const Probe& p = probe(Capability::pagemap_physical); !p.available) {
    std::printf("   skipped: %s\n", p.detail.c_str());
    return {};
  }
  Table table({"buffer (" + format_bytes(settings.size_bytes) + ", pinned)", "pages", "segments",
               "largest segment", "THP-backed pages"});
  auto small = Region::create_anonymous(settings.size_bytes, {.pin = true});
  if (!small) return std::unexpected(small.error());
  auto small_layout = physical_layout(small->bytes());
  if (!small_layout) return std::unexpected(small_layout.error());
  table.add_row(layout_row("4 KiB pages", *small_layout));

  std::string huge_note;
  if (const Probe& thp = probe(Capability::transparent_huge_pages); thp.available) {
    auto huge = Region::create_anonymous(settings.size_bytes, {.huge_pages = true, .pin = true});
    if (!huge) return std::unexpected(huge.error());
    auto huge_layout = physical_layout(huge->bytes());
    if (!huge_layout) return std::unexpected(huge_layout.error());
    table.add_row(layout_row("transparent huge pages", *huge_layout));
  } else {
    huge_note = "   huge pages skipped: " + thp.detail + "\n";
  }
  table.print(stdout);
  std::printf("%s", huge_note.c_str());
  return {};
}

}  // namespace zc::cli
