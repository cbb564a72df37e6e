// Where does a pinned buffer sit in physical memory? Pins 8 MiB, prints its scatter-gather list
// (runs of physically contiguous pages) and what a device capped at 64 KiB per entry would need.
//
// Reading physical addresses needs CAP_SYS_ADMIN; without it the example says why and exits 0.
#include "zcopy/mem/physical_layout.hpp"

#include <cinttypes>
#include <cstdio>

#include "zcopy/core/units.hpp"
#include "zcopy/mem/region.hpp"

int main() {
  auto region = zc::Region::create_anonymous(8 * zc::kMiB, {.name = "layout-example", .pin = true});
  if (!region) {
    std::printf("cannot pin a buffer here: %s\n", region.error().message().c_str());
    return 0;
  }

  zc::Result<zc::PhysicalLayout> layout = zc::physical_layout(region->bytes());
  if (!layout) {
    std::printf("physical layout unavailable: %s\n", layout.error().message().c_str());
    return 0;
  }

  std::printf("%s pinned: %zu pages of %s, %zu present\n", zc::format_bytes(region->size()).c_str(),
              layout->pages, zc::format_bytes(layout->page_size).c_str(), layout->present());
  std::printf("%zu physically contiguous segments, the largest %s\n", layout->segments.size(),
              zc::format_bytes(layout->largest_segment()).c_str());
  std::printf("a device limited to 64 KiB per entry needs %zu entries\n",
              layout->segments_needed(64 * zc::kKiB));
  for (std::size_t i = 0; i < layout->segments.size() && i < 4; ++i) {
    const zc::PhysicalSegment& s = layout->segments[i];
    std::printf("  +%-10zu -> 0x%012" PRIx64 "  %s\n", s.offset, s.physical_address,
                zc::format_bytes(s.length).c_str());
  }
  return 0;
}
