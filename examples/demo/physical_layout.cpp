// `zcopy demo` section 5: the physical scatter-gather layout of a pinned buffer, on 4 KiB pages
// and on transparent huge pages, as a device doing DMA would be handed it.
#include "zcopy/mem/physical_layout.hpp"

#include "bench/support/table.hpp"
#include "examples/demo/sections.hpp"
#include "zcopy/core/capabilities.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/mem/region.hpp"

namespace zc::demo {
namespace {

using bench::Table;

std::vector<std::string> layout_row(const char* label, const PhysicalLayout& layout) {
  return {label, std::to_string(layout.pages), std::to_string(layout.segments.size()),
          format_bytes(layout.largest_segment()),
          layout.huge_backed ? std::to_string(*layout.huge_backed) : "unknown"};
}

}  // namespace

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

}  // namespace zc::demo
