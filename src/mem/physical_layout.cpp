#include "zcopy/mem/physical_layout.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "zcopy/core/fd.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc {
namespace {

// /proc/self/pagemap: one 64-bit entry per virtual page (Documentation/admin-guide/mm/pagemap.rst).
constexpr std::uint64_t kPagemapPresent = std::uint64_t{1} << 63;
constexpr std::uint64_t kPagemapSwapped = std::uint64_t{1} << 62;
constexpr std::uint64_t kPagemapPfnMask = (std::uint64_t{1} << 55) - 1;
// /proc/kpageflags: one 64-bit entry per physical frame.
constexpr std::uint64_t kPageFlagHuge = std::uint64_t{1} << 17;  // KPF_HUGE: hugetlb
constexpr std::uint64_t kPageFlagThp = std::uint64_t{1} << 22;   // KPF_THP: transparent huge page
constexpr std::size_t kEntryBytes = sizeof(std::uint64_t);
// Frames this close together are read from kpageflags in one pread rather than two: reading a few
// unneeded entries is cheaper than another system call.
constexpr std::uint64_t kKpageflagsMergeGap = 512;

// Reads `count` consecutive entries starting at entry `first`. One pread for the whole range:
// pagemap answers page by page internally, and a call per page would cost a system call per 4 KiB.
Result<std::vector<std::uint64_t>> read_entries(const Fd& file, const char* call,
                                                std::uint64_t first, std::size_t count) {
  std::vector<std::uint64_t> entries(count);
  auto* out = reinterpret_cast<char*>(entries.data());
  const std::size_t want = count * kEntryBytes;
  std::size_t done = 0;
  while (done < want) {
    const auto offset = static_cast<off_t>(first * kEntryBytes + done);
    auto n = sys_call({call, file.get()},
                      [&] { return ::pread(file.get(), out + done, want - done, offset); });
    if (!n) return std::unexpected(n.error());
    if (*n == 0)
      return fail(Errc::system, call, "short read: the range ends past the end of the file");
    done += static_cast<std::size_t>(*n);
  }
  return entries;
}

// A run of consecutive physical frames, as kpageflags is indexed.
struct FrameRun {
  std::uint64_t first_pfn;
  std::uint64_t frames;
};

// Counts the frames in `runs` that kpageflags marks as part of a huge page; empty when the file is
// unreadable (it needs root) or a read fails: the count is an extra, not worth failing the layout.
std::optional<std::size_t> count_huge_backed(std::vector<FrameRun> runs) {
  if (runs.empty()) return std::size_t{0};
  auto file = Fd::open("/proc/kpageflags", O_RDONLY);
  if (!file) return std::nullopt;

  std::sort(runs.begin(), runs.end(),
            [](const FrameRun& a, const FrameRun& b) { return a.first_pfn < b.first_pfn; });
  std::size_t huge = 0;
  std::size_t i = 0;
  while (i < runs.size()) {
    // Gather the runs close enough to read in one window.
    const std::uint64_t window_first = runs[i].first_pfn;
    std::uint64_t window_end = runs[i].first_pfn + runs[i].frames;
    std::size_t j = i + 1;
    while (j < runs.size() && runs[j].first_pfn <= window_end + kKpageflagsMergeGap) {
      window_end = std::max(window_end, runs[j].first_pfn + runs[j].frames);
      ++j;
    }
    auto flags = read_entries(*file, "pread(/proc/kpageflags)", window_first,
                              static_cast<std::size_t>(window_end - window_first));
    if (!flags) return std::nullopt;
    for (std::size_t k = i; k < j; ++k) {
      const auto begin = static_cast<std::size_t>(runs[k].first_pfn - window_first);
      for (std::size_t f = begin; f < begin + runs[k].frames; ++f) {
        if (((*flags)[f] & (kPageFlagHuge | kPageFlagThp)) != 0) ++huge;
      }
    }
    i = j;
  }
  return huge;
}

}  // namespace

std::size_t PhysicalLayout::largest_segment() const noexcept {
  std::size_t largest = 0;
  for (const PhysicalSegment& s : segments) largest = std::max(largest, s.length);
  return largest;
}

std::size_t PhysicalLayout::segments_needed(std::size_t max_segment_bytes) const noexcept {
  if (max_segment_bytes == 0) return segments.size();
  std::size_t needed = 0;
  for (const PhysicalSegment& s : segments)
    needed += (s.length + max_segment_bytes - 1) / max_segment_bytes;
  return needed;
}

Result<PhysicalLayout> physical_layout(std::span<const std::byte> memory) {
  if (memory.empty()) return fail(Errc::invalid_argument, "physical layout", "the span is empty");

  PhysicalLayout layout;
  layout.page_size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t page = layout.page_size;
  const auto begin = reinterpret_cast<std::uintptr_t>(memory.data());
  const std::uintptr_t end = begin + memory.size();
  const std::uintptr_t first_page = begin / page;
  layout.pages = (end + page - 1) / page - first_page;

  auto pagemap = Fd::open("/proc/self/pagemap", O_RDONLY);
  if (!pagemap) return std::unexpected(std::move(pagemap.error()));
  auto entries = read_entries(*pagemap, "pread(/proc/self/pagemap)", first_page, layout.pages);
  if (!entries) return std::unexpected(std::move(entries.error()));

  std::vector<FrameRun> runs;
  std::uint64_t previous_pfn = 0;
  bool extending = false;  // the previous page is present and ends the last segment
  for (std::size_t i = 0; i < layout.pages; ++i) {
    const std::uint64_t entry = (*entries)[i];
    if ((entry & kPagemapPresent) == 0) {
      ++layout.not_present;
      if ((entry & kPagemapSwapped) != 0) ++layout.swapped;
      extending = false;
      continue;
    }
    const std::uint64_t pfn = entry & kPagemapPfnMask;
    // Frame 0 is never handed to user space; a present page at frame 0 means the kernel hid the
    // frame numbers because this reader lacks CAP_SYS_ADMIN.
    if (pfn == 0) {
      return fail(Errc::capability_missing, "physical layout",
                  "reading physical addresses from /proc/self/pagemap needs CAP_SYS_ADMIN");
    }
    // The bytes of the span inside this page: the first and last pages may be partial.
    const std::uintptr_t page_start = (first_page + i) * page;
    const std::uintptr_t from = std::max(page_start, begin);
    const std::uintptr_t to = std::min(page_start + page, end);
    if (extending && pfn == previous_pfn + 1) {
      layout.segments.back().length += to - from;
      ++runs.back().frames;
    } else {
      layout.segments.push_back({.offset = from - begin,
                                 .physical_address = pfn * page + (from - page_start),
                                 .length = to - from});
      runs.push_back({.first_pfn = pfn, .frames = 1});
    }
    previous_pfn = pfn;
    extending = true;
  }
  layout.huge_backed = count_huge_backed(std::move(runs));
  return layout;
}

}  // namespace zc
