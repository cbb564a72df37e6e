// zcopy inspect: pins a buffer, shows where it sits in physical memory (the scatter-gather list a
// device would need) and what touching memory costs with and without pinning.
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <string>

#include "bench/support/table.hpp"
#include "command.hpp"
#include "options.hpp"
#include "zcopy/core/json_record.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/mem/fault_profile.hpp"
#include "zcopy/mem/physical_layout.hpp"
#include "zcopy/mem/region.hpp"

namespace zc::cli {
namespace {

using bench::Table;

// Many block and network devices cap one scatter-gather entry at 64 KiB; shown as an example.
constexpr std::size_t kExampleDeviceMaxSegment = 64 * kKiB;
// Segments listed in text mode; the rest are summarised.
constexpr std::size_t kSegmentsShown = 8;

struct InspectOptions {
  std::uint64_t size = 64 * kMiB;
  bool huge = false;
  bool json = false;
};

struct Inspection {
  std::size_t size = 0;  // of the region, after rounding to its page size
  std::uint64_t pin_ns = 0;
  PhysicalLayout layout;
  FaultProfile pinned;
  FaultProfile first_touch;
};

Result<Inspection> inspect(const InspectOptions& options) {
  Inspection result;
  const RegionOptions region_options{
      .name = "zcopy-inspect", .huge_pages = options.huge, .pin = false};

  auto pinned = Region::create_anonymous(static_cast<std::size_t>(options.size), region_options);
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
  auto fresh = Region::create_anonymous(static_cast<std::size_t>(options.size), region_options);
  if (!fresh) return std::unexpected(std::move(fresh.error()));
  auto fresh_profile = profile_first_touch(fresh->bytes());
  if (!fresh_profile) return std::unexpected(std::move(fresh_profile.error()));
  result.first_touch = *fresh_profile;
  return result;
}

std::string hex_address(std::uint64_t address) {
  char text[32];
  std::snprintf(text, sizeof text, "0x%016" PRIx64, address);
  return text;
}

std::string count(std::uint64_t n) {
  return std::to_string(n);
}

void print_text(const Inspection& r, const InspectOptions& options) {
  const PhysicalLayout& l = r.layout;
  std::printf("zcopy inspect: %s anonymous buffer on %s, pinned in %s\n\n",
              format_bytes(r.size).c_str(), options.huge ? "transparent huge pages" : "base pages",
              format_nanos(static_cast<double>(r.pin_ns)).c_str());

  std::printf("Physical layout (from /proc/self/pagemap)\n");
  std::printf("  pages              %zu x %s, %zu present\n", l.pages,
              format_bytes(l.page_size).c_str(), l.present());
  std::printf("  segments           %zu physically contiguous runs (%zu with %s granularity)\n",
              l.segments.size(), l.segments_needed(l.page_size), format_bytes(l.page_size).c_str());
  std::printf("  largest segment    %s\n", format_bytes(l.largest_segment()).c_str());
  if (l.huge_backed) {
    std::printf("  huge-backed pages  %zu of %zu\n", *l.huge_backed, l.present());
  } else {
    std::printf("  huge-backed pages  unknown (/proc/kpageflags unreadable)\n");
  }
  std::printf("  SG entries         %zu for a device with a %s segment limit\n",
              l.segments_needed(kExampleDeviceMaxSegment),
              format_bytes(kExampleDeviceMaxSegment).c_str());
  std::printf("\n");

  Table segments({"offset", "physical address", "length"});
  const std::size_t shown = std::min(l.segments.size(), kSegmentsShown);
  for (std::size_t i = 0; i < shown; ++i) {
    const PhysicalSegment& s = l.segments[i];
    segments.add_row(
        {format_bytes(s.offset), hex_address(s.physical_address), format_bytes(s.length)});
  }
  segments.print(stdout);
  if (l.segments.size() > shown)
    std::printf("  ... and %zu more segments\n", l.segments.size() - shown);
  std::printf("\n");

  std::printf("Touching one byte per page (%zu pages)\n", r.pinned.pages);
  Table faults({"buffer", "minor faults", "major", "p50", "p99", "max", "total"});
  auto add = [&faults](const char* label, const FaultProfile& p) {
    faults.add_row({label, count(p.minor_faults), count(p.major_faults),
                    format_nanos(static_cast<double>(p.p50_ns)),
                    format_nanos(static_cast<double>(p.p99_ns)),
                    format_nanos(static_cast<double>(p.max_ns)),
                    format_nanos(static_cast<double>(p.total_ns))});
  };
  add("fresh (first touch)", r.first_touch);
  add("pinned", r.pinned);
  faults.print(stdout);
}

void print_json(const Inspection& r, const InspectOptions& options) {
  const char* backing = options.huge ? "thp" : "4k";
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
  std::printf("%s\n", layout.str().c_str());

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
  std::printf("%s\n", fault_record("first-touch", r.first_touch).str().c_str());
  std::printf("%s\n", fault_record("pinned", r.pinned).add("pin_ns", r.pin_ns).str().c_str());
}

}  // namespace

CommandRunner add_inspect_command(CLI::App& sub) {
  auto options = std::make_shared<InspectOptions>();
  add_size_option(sub, "--size", options->size, "Buffer size, e.g. 64M (default 64M)", 1);
  sub.add_flag("--huge", options->huge, "Back the buffer with transparent huge pages (2 MiB)");
  sub.add_flag("--json", options->json, "One JSON record per line instead of text");
  return [options]() -> CommandResult {
    auto result = inspect(*options);
    if (!result) return std::unexpected(std::move(result.error()).with_context("inspect"));
    if (options->json) {
      print_json(*result, *options);
    } else {
      print_text(*result, *options);
    }
    return kExitOk;
  };
}

}  // namespace zc::cli
