#include "zcopy/mem/physical_layout.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "support/capability_gate.hpp"
#include "support/child_process.hpp"
#include "zcopy/core/units.hpp"

namespace {

constexpr std::size_t kHugePage = 2 * zc::kMiB;

// An anonymous mapping owned by the test, optionally aligned to `alignment` (over-map, then trim).
class Mapping {
 public:
  Mapping(std::size_t size, std::size_t alignment) : size_(size) {
    const std::size_t span = size + alignment;
    void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return;
    auto start = reinterpret_cast<std::uintptr_t>(raw);
    const std::uintptr_t aligned = (start + alignment - 1) / alignment * alignment;
    if (aligned > start) ::munmap(raw, aligned - start);
    const std::uintptr_t tail = aligned + size;
    if (start + span > tail) ::munmap(reinterpret_cast<void*>(tail), start + span - tail);
    data_ = reinterpret_cast<std::byte*>(aligned);
  }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (data_ != nullptr) ::munmap(data_, size_);
  }

  bool ok() const { return data_ != nullptr; }
  std::byte* data() const { return data_; }
  std::span<std::byte> bytes() const { return {data_, size_}; }

 private:
  std::byte* data_ = nullptr;
  std::size_t size_;
};

// mlock(2) through syscall(2): the sanitizers intercept mlock() and make it do nothing, and these
// tests need the kernel to lock and fault the pages in for real.
int lock_pages(void* address, std::size_t length) {
  return static_cast<int>(::syscall(SYS_mlock, address, length));
}

std::size_t page_size() {
  return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

// Frame numbers of each page of `bytes`, read page by page: an independent check on the one-pread
// path under test. 0 for a page that is not present.
std::vector<std::uint64_t> frames_of(std::span<const std::byte> bytes) {
  std::vector<std::uint64_t> frames;
  const int fd = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return frames;
  const auto first = reinterpret_cast<std::uintptr_t>(bytes.data()) / page_size();
  for (std::size_t i = 0; i < bytes.size() / page_size(); ++i) {
    std::uint64_t entry = 0;
    if (::pread(fd, &entry, sizeof entry, static_cast<off_t>((first + i) * sizeof entry)) !=
        sizeof entry)
      break;
    const bool present = (entry >> 63) != 0;
    frames.push_back(present ? entry & ((std::uint64_t{1} << 55) - 1) : 0);
  }
  ::close(fd);
  return frames;
}

TEST(PhysicalLayout, PinnedBufferIsFullyPresentAndCoveredBySegmentsInOrder) {
  ZC_REQUIRE_CAPABILITY(zc::Capability::pagemap_physical);
  ZC_REQUIRE_CAPABILITY(zc::Capability::memlock);
  const std::size_t size = 8 * zc::kMiB;
  Mapping buffer(size, page_size());
  ASSERT_TRUE(buffer.ok());
  ASSERT_EQ(lock_pages(buffer.data(), size), 0) << std::strerror(errno);

  auto layout = zc::physical_layout(buffer.bytes());
  ASSERT_TRUE(layout) << layout.error().message();
  EXPECT_EQ(layout->page_size, page_size());
  EXPECT_EQ(layout->pages, size / page_size());
  EXPECT_EQ(layout->not_present, 0U);
  EXPECT_EQ(layout->present(), layout->pages);
  ASSERT_FALSE(layout->segments.empty());

  std::size_t expected_offset = 0;
  std::size_t largest = 0;
  for (const zc::PhysicalSegment& segment : layout->segments) {
    EXPECT_EQ(segment.offset, expected_offset) << "segments must tile the span in order";
    EXPECT_EQ(segment.physical_address % page_size(), 0U);
    EXPECT_EQ(segment.length % page_size(), 0U);
    EXPECT_GT(segment.length, 0U);
    expected_offset += segment.length;
    largest = std::max(largest, segment.length);
  }
  EXPECT_EQ(expected_offset, size);
  EXPECT_EQ(layout->largest_segment(), largest);
  EXPECT_EQ(layout->segments_needed(page_size()), layout->pages);
  EXPECT_EQ(layout->segments_needed(0), layout->segments.size());

  // Every page of a segment is the frame after the previous one, and a new segment starts exactly
  // where the frames stop being consecutive.
  const std::vector<std::uint64_t> frames = frames_of(buffer.bytes());
  ASSERT_EQ(frames.size(), layout->pages);
  for (std::size_t s = 0; s < layout->segments.size(); ++s) {
    const zc::PhysicalSegment& segment = layout->segments[s];
    const std::size_t first = segment.offset / page_size();
    EXPECT_EQ(frames[first], segment.physical_address / page_size());
    for (std::size_t p = 1; p < segment.length / page_size(); ++p) {
      EXPECT_EQ(frames[first + p], frames[first] + p) << "segment " << s << " page " << p;
    }
    if (s > 0) {
      EXPECT_NE(frames[first], frames[first - 1] + 1)
          << "segment " << s << " should have been merged";
    }
  }
  ::munlock(buffer.data(), size);
}

TEST(PhysicalLayout, SegmentsNeededSplitsRunsAtTheDeviceMaximum) {
  zc::PhysicalLayout layout;
  layout.page_size = 4096;
  layout.segments = {{.offset = 0, .physical_address = 0x100000, .length = 3 * 4096},
                     {.offset = 3 * 4096, .physical_address = 0x900000, .length = 8192},
                     {.offset = 5 * 4096, .physical_address = 0x400000, .length = 4096}};
  EXPECT_EQ(layout.largest_segment(), 3U * 4096);
  EXPECT_EQ(layout.segments_needed(0), 3U);
  EXPECT_EQ(layout.segments_needed(64 * zc::kKiB), 3U);
  EXPECT_EQ(layout.segments_needed(8192), 2U + 1 + 1);
  EXPECT_EQ(layout.segments_needed(4096), 3U + 2 + 1);
}

TEST(PhysicalLayout, TransparentHugePagesGiveRunsOfAtLeastTwoMebibytes) {
  ZC_REQUIRE_CAPABILITY(zc::Capability::pagemap_physical);
  ZC_REQUIRE_CAPABILITY(zc::Capability::transparent_huge_pages);
  ZC_REQUIRE_CAPABILITY(zc::Capability::memlock);
  const std::size_t size = 16 * zc::kMiB;
  Mapping buffer(size, kHugePage);
  ASSERT_TRUE(buffer.ok());
  ASSERT_EQ(::madvise(buffer.data(), size, MADV_HUGEPAGE), 0) << std::strerror(errno);
  ASSERT_EQ(lock_pages(buffer.data(), size), 0) << std::strerror(errno);

  auto layout = zc::physical_layout(buffer.bytes());
  ASSERT_TRUE(layout) << layout.error().message();
  EXPECT_EQ(layout->not_present, 0U);
  ASSERT_FALSE(layout->segments.empty());
  // A huge page is 2 MiB of consecutive frames, so unless the kernel fell back to small pages
  // (memory too fragmented), every run is at least one whole huge page.
  for (const zc::PhysicalSegment& segment : layout->segments) {
    EXPECT_GE(segment.length, kHugePage) << "at offset " << segment.offset;
    EXPECT_EQ(segment.physical_address % kHugePage, 0U);
  }
  EXPECT_LE(layout->segments.size(), size / kHugePage);
  EXPECT_LT(layout->segments.size() * 64, layout->pages);
  if (layout->huge_backed) {
    EXPECT_EQ(*layout->huge_backed, layout->pages);
  }
  ::munlock(buffer.data(), size);
}

TEST(PhysicalLayout, UntouchedPagesAreReportedNotPresentWithoutAddresses) {
  ZC_REQUIRE_CAPABILITY(zc::Capability::pagemap_physical);
  const std::size_t pages = 64;
  Mapping buffer(pages * page_size(), page_size());
  ASSERT_TRUE(buffer.ok());
  // MADV_NOHUGEPAGE: with THP "always", touching one page could back the whole range.
  ::madvise(buffer.data(), pages * page_size(), MADV_NOHUGEPAGE);
  // Touch pages 10 and 11 only.
  buffer.data()[10 * page_size()] = std::byte{1};
  buffer.data()[11 * page_size()] = std::byte{1};

  auto layout = zc::physical_layout(buffer.bytes());
  ASSERT_TRUE(layout) << layout.error().message();
  EXPECT_EQ(layout->pages, pages);
  EXPECT_EQ(layout->not_present, pages - 2);
  EXPECT_EQ(layout->swapped, 0U);
  std::size_t covered = 0;
  for (const zc::PhysicalSegment& segment : layout->segments) {
    EXPECT_GE(segment.offset, 10 * page_size());
    EXPECT_LE(segment.offset + segment.length, 12 * page_size());
    covered += segment.length;
  }
  EXPECT_EQ(covered, 2 * page_size());
}

TEST(PhysicalLayout, UnalignedSpanIsClippedToItsBytes) {
  ZC_REQUIRE_CAPABILITY(zc::Capability::pagemap_physical);
  ZC_REQUIRE_CAPABILITY(zc::Capability::memlock);
  const std::size_t size = 4 * page_size();
  Mapping buffer(size, page_size());
  ASSERT_TRUE(buffer.ok());
  ASSERT_EQ(lock_pages(buffer.data(), size), 0) << std::strerror(errno);

  // 100 bytes into the first page up to 100 bytes into the last one.
  const std::span<const std::byte> inner(buffer.data() + 100, size - page_size());
  auto layout = zc::physical_layout(inner);
  ASSERT_TRUE(layout) << layout.error().message();
  EXPECT_EQ(layout->pages, 4U);
  ASSERT_FALSE(layout->segments.empty());
  EXPECT_EQ(layout->segments.front().offset, 0U);
  EXPECT_EQ(layout->segments.front().physical_address % page_size(), 100U);
  std::size_t covered = 0;
  for (const zc::PhysicalSegment& segment : layout->segments) covered += segment.length;
  EXPECT_EQ(covered, inner.size());
  ::munlock(buffer.data(), size);
}

TEST(PhysicalLayout, EmptySpanIsAnInvalidArgument) {
  auto layout = zc::physical_layout({});
  ASSERT_FALSE(layout);
  EXPECT_EQ(layout.error().code(), zc::Errc::invalid_argument);
}

TEST(PhysicalLayout, WithoutCapSysAdminFailsWithOneClearLine) {
  ZC_REQUIRE_CAPABILITY(zc::Capability::cap_sys_admin);
  Mapping buffer(16 * page_size(), page_size());
  ASSERT_TRUE(buffer.ok());
  std::memset(buffer.data(), 1, 16 * page_size());

  const int status = zc::test::run_in_child([&] {
    if (!zc::test::drop_capability(CAP_SYS_ADMIN)) return 10;
    auto layout = zc::physical_layout(buffer.bytes());
    if (layout) return 11;
    if (layout.error().code() != zc::Errc::capability_missing) return 12;
    const std::string message = layout.error().message();
    if (message.find("reading physical addresses from /proc/self/pagemap needs CAP_SYS_ADMIN") ==
        std::string::npos)
      return 13;
    if (message.find('\n') != std::string::npos) return 14;
    return 0;
  });
  EXPECT_EQ(status, 0) << "10: could not drop CAP_SYS_ADMIN, 11: layout succeeded, 12: wrong code, "
                          "13: wrong message, 14: message spans lines";
}

}  // namespace
