#include "bench/mem/inspect_run.hpp"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <string>

#include "bench/support/table.hpp"
#include "zcopy/mem/region.hpp"

namespace zc::bench {
namespace {

// Many block and network devices cap one scatter-gather entry at 64 KiB; shown as an example.
constexpr std::size_t kExampleDeviceMaxSegment = 64 * kKiB;
// Segments listed in text mode; the rest are summarised.
constexpr std::size_t kSegmentsShown = 8;

std::string hex_address(std::uint64_t address) {
  char text[32];
  std::snprintf(text, sizeof text, "0x%016" PRIx64, address);
  return text;
}

std::string nanos(std::uint64_t ns) {
  return format_nanos(static_cast<double>(ns));
}

std::string text_of(const Inspection& r, const InspectConfig& config) {
  const PhysicalLayout& l = r.layout;
  std::string text = format_text(
      "zcopy inspect: %s anonymous buffer on %s, pinned in %s\n\n", format_bytes(r.size).c_str(),
      config.huge ? "transparent huge pages" : "base pages", nanos(r.pin_ns).c_str());
  text += "Physical layout (from /proc/self/pagemap)\n";
  text += format_text("  pages              %zu x %s, %zu present\n", l.pages,
                      format_bytes(l.page_size).c_str(), l.present());
  text += format_text(
      "  segments           %zu physically contiguous runs (%zu with %s "
      "granularity)\n",
      l.segments.size(), l.segments_needed(l.page_size), format_bytes(l.page_size).c_str());
  text += format_text("  largest segment    %s\n", format_bytes(l.largest_segment()).c_str());
  text += l.huge_backed
              ? format_text("  huge-backed pages  %zu of %zu\n", *l.huge_backed, l.present())
              : std::string("  huge-backed pages  unknown (/proc/kpageflags unreadable)\n");
  text += format_text("  SG entries         %zu for a device with a %s segment limit\n\n",
                      l.segments_needed(kExampleDeviceMaxSegment),
                      format_bytes(kExampleDeviceMaxSegment).c_str());

  Table segments({"offset", "physical address", "length"});
  const std::size_t shown = std::min(l.segments.size(), kSegmentsShown);
  for (std::size_t i = 0; i < shown; ++i) {
    const PhysicalSegment& s = l.segments[i];
    segments.add_row(
        {format_bytes(s.offset), hex_address(s.physical_address), format_bytes(s.length)});
  }
  text += segments.str();
  if (l.segments.size() > shown)
    text += format_text("  ... and %zu more segments\n", l.segments.size() - shown);
  text += "\n";

  text += format_text("Touching one byte per page (%zu pages)\n", r.pinned.pages);
  Table faults({"buffer", "minor faults", "major", "p50", "p99", "max", "total"});
  auto add = [&faults](const char* label, const FaultProfile& p) {
    faults.add_row({label, std::to_string(p.minor_faults), std::to_string(p.major_faults),
                    nanos(p.p50_ns), nanos(p.p99_ns), nanos(p.max_ns), nanos(p.total_ns)});
  };
  add("fresh (first touch)", r.first_touch);
  add("pinned", r.pinned);
  return text + faults.str();
}

}  // namespace

Result<Inspection> run_inspect(const InspectConfig& config) {
  Inspection result;
  const RegionOptions region_options{
      .name = "zcopy-inspect", .huge_pages = config.huge, .pin = false};

  auto pinned = Region::create_anonymous(static_cast<std::size_t>(config.size), region_options);
  if (!pinned) return std::unexpected(std::move(pinned.error()));
  const auto pin_start = std::chrono::steady_clock::now();
  if (auto pinning = pinned->pin(); !pinning) return std::unexpected(std::move(pinning.error()));
  result.pin_ns = static_cast<std::uint64_t>(
      std::chrono::nanoseconds(std::chrono::steady_clock::now() - pin_start).count());
  result.size = pinned->size();

  auto layout = physical_layout(pinned->bytes());
  if (!layout) return std::unexpected(std::move(layout.error()));
  result.layout = std::move(*layout);

  auto pinned_profile = profile_first_touch(pinned->bytes());
  if (!pinned_profile) return std::unexpected(std::move(pinned_profile.error()));
  result.pinned = *pinned_profile;

  // Same size and page kind, not pinned: what the first touch costs without paying up front.
  auto fresh = Region::create_anonymous(static_cast<std::size_t>(config.size), region_options);
  if (!fresh) return std::unexpected(std::move(fresh.error()));
  auto fresh_profile = profile_first_touch(fresh->bytes());
  if (!fresh_profile) return std::unexpected(std::move(fresh_profile.error()));
  result.first_touch = *fresh_profile;
  return result;
}

Report describe(const Inspection& r, const InspectConfig& config) {
  Report report;
  report.text = text_of(r, config);
  const char* backing = config.huge ? "thp" : "4k";
  const PhysicalLayout& l = r.layout;
  JsonRecord layout = bench_record("physical-layout", backing, r.size);
  layout.add("page_size_bytes", std::uint64_t{l.page_size})
      .add("pages", std::uint64_t{l.pages})
      .add("present_pages", std::uint64_t{l.present()})
      .add("segments", std::uint64_t{l.segments.size()})
      .add("segments_at_page_granularity", std::uint64_t{l.segments_needed(l.page_size)})
      .add("segments_at_64k_limit", std::uint64_t{l.segments_needed(kExampleDeviceMaxSegment)})
      .add("largest_segment_bytes", std::uint64_t{l.largest_segment()});
  if (l.huge_backed) layout.add("huge_backed_pages", std::uint64_t{*l.huge_backed});
  report.records.push_back(std::move(layout));

  auto fault_record = [&](const char* method, const FaultProfile& p) {
    JsonRecord record = bench_record("fault-jitter", method, r.size);
    record.add("backing", backing)
        .add("pages", std::uint64_t{p.pages})
        .add("latency_p50_ns", p.p50_ns)
        .add("latency_p90_ns", p.p90_ns)
        .add("latency_p99_ns", p.p99_ns)
        .add("latency_p999_ns", p.p999_ns)
        .add("latency_max_ns", p.max_ns)
        .add("total_ns", p.total_ns)
        .add("minor_faults", p.minor_faults)
        .add("major_faults", p.major_faults);
    return record;
  };
  report.records.push_back(fault_record("first-touch", r.first_touch));
  report.records.push_back(fault_record("pinned", r.pinned).add("pin_ns", r.pin_ns));
  return report;
}

}  // namespace zc::bench
