// zcopy/mem/physical_layout.hpp: where a buffer of ours sits in physical memory.
//
// A device that reads a buffer by DMA is handed a scatter-gather list: one entry per run of
// physically contiguous pages (unless an IOMMU presents the scattered pages as one I/O virtual
// range). physical_layout() reads /proc/self/pagemap and returns exactly that list, so one can see
// what 4 KiB pages cost compared with huge pages:
//
//   auto region = zc::Region::create_anonymous(64 * zc::kMiB, {.huge_pages = true, .pin = true});
//   zc::Result<zc::PhysicalLayout> layout = zc::physical_layout(region->bytes());
//   if (!layout) return std::unexpected(layout.error());   // e.g. no CAP_SYS_ADMIN
//   std::printf("%zu pages in %zu segments, largest %zu bytes\n", layout->pages,
//               layout->segments.size(), layout->largest_segment());
//   layout->segments_needed(64 * zc::kKiB);          // entries for a device capped at 64 KiB
//
// Physical addresses are only meaningful for pages that are present and stay put: pin the memory
// first (Region::pin), or the kernel may not have backed it yet, may move it (compaction, NUMA
// balancing) or swap it out. Pages that are not present are counted, never given an address.
//
// Privilege: the kernel shows frame numbers only to readers with CAP_SYS_ADMIN; everyone else sees
// zeros, which physical_layout() reports as Errc::capability_missing. Which pages are backed by
// huge pages comes from /proc/kpageflags (root only); without it huge_backed is empty.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "zcopy/core/error.hpp"

namespace zc {

// One scatter-gather entry: bytes that are contiguous both virtually and physically.
struct PhysicalSegment {
  std::size_t offset = 0;              // from the start of the inspected span
  std::uint64_t physical_address = 0;  // of the segment's first byte
  std::size_t length = 0;              // bytes

  friend bool operator==(const PhysicalSegment&, const PhysicalSegment&) = default;
};

// A snapshot of a span's physical layout: true when taken, possibly stale a moment later unless
// the memory is pinned.
struct PhysicalLayout {
  std::size_t page_size = 0;    // the base page size pagemap reports in (4 KiB on x86-64)
  std::size_t pages = 0;        // base pages the span touches
  std::size_t not_present = 0;  // pages with no frame: never touched, or swapped out
  std::size_t swapped = 0;      // of those, pages that are in swap
  // Present pages that belong to a transparent huge page or a hugetlb page; empty when
  // /proc/kpageflags could not be read.
  std::optional<std::size_t> huge_backed;
  // Runs of physically contiguous present pages, in increasing offset. Without holes they cover
  // the span exactly; a page that is not present ends a run.
  std::vector<PhysicalSegment> segments;

  std::size_t present() const noexcept { return pages - not_present; }
  // Bytes in the longest segment (0 when nothing is present).
  std::size_t largest_segment() const noexcept;
  // Scatter-gather entries for a device whose entries may not exceed `max_segment_bytes`: each
  // run split into pieces of at most that size. segments_needed(page_size) is the list without
  // merging adjacent pages. A max of 0 means no limit.
  std::size_t segments_needed(std::size_t max_segment_bytes) const noexcept;
};

// Reads the physical layout of `memory`, which must be mapped in this process. Fails with
// Errc::capability_missing when pagemap hides frame numbers (no CAP_SYS_ADMIN) and
// Errc::invalid_argument for an empty span.
Result<PhysicalLayout> physical_layout(std::span<const std::byte> memory);

}  // namespace zc
