#include "zcopy/mem/fault_profile.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "support/capability_gate.hpp"
#include "zcopy/core/units.hpp"

namespace {

// mlock(2) through syscall(2): the sanitizers intercept mlock() and make it do nothing, and these
// tests need the kernel to lock and fault the pages in for real.
int lock_pages(void* address, std::size_t length) {
  return static_cast<int>(::syscall(SYS_mlock, address, length));
}

std::size_t page_size() {
  return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

// A private anonymous mapping that no one has touched yet.
class FreshMapping {
 public:
  explicit FreshMapping(std::size_t size) : size_(size) {
    void* raw = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw != MAP_FAILED) data_ = static_cast<std::byte*>(raw);
    // Small pages: with THP "always" one fault would back 512 pages and the counts would not
    // be about pages.
    if (data_ != nullptr) ::madvise(data_, size_, MADV_NOHUGEPAGE);
  }
  FreshMapping(const FreshMapping&) = delete;
  FreshMapping& operator=(const FreshMapping&) = delete;
  ~FreshMapping() {
    if (data_ != nullptr) ::munmap(data_, size_);
  }

  bool ok() const { return data_ != nullptr; }
  std::byte* data() const { return data_; }
  std::span<std::byte> bytes() const { return {data_, size_}; }

 private:
  std::byte* data_ = nullptr;
  std::size_t size_;
};

TEST(FaultProfile, FirstTouchOfFreshMemoryFaultsOncePerPage) {
  const std::size_t size = 16 * zc::kMiB;
  FreshMapping buffer(size);
  ASSERT_TRUE(buffer.ok());

  auto profile = zc::profile_first_touch(buffer.bytes());
  ASSERT_TRUE(profile) << profile.error().message();
  EXPECT_EQ(profile->pages, size / page_size());
  EXPECT_EQ(profile->page_size, page_size());
  // Fault-around does not apply to anonymous memory: every page is its own fault. The margins
  // allow for the odd batched fault below and AddressSanitizer's shadow pages above.
  EXPECT_GE(profile->minor_faults, profile->pages * 9 / 10);
  EXPECT_LE(profile->minor_faults, profile->pages * 3 / 2);
  EXPECT_EQ(profile->major_faults, 0U);
  EXPECT_LE(profile->p50_ns, profile->p90_ns);
  EXPECT_LE(profile->p90_ns, profile->p99_ns);
  EXPECT_LE(profile->p99_ns, profile->p999_ns);
  EXPECT_LE(profile->p999_ns, profile->max_ns);
  EXPECT_LE(profile->max_ns, profile->total_ns);
}

TEST(FaultProfile, TouchingPinnedMemoryTakesAlmostNoFaults) {
  ZC_REQUIRE_CAPABILITY(zc::Capability::memlock);
  const std::size_t size = 16 * zc::kMiB;
  FreshMapping buffer(size);
  ASSERT_TRUE(buffer.ok());
  ASSERT_EQ(lock_pages(buffer.data(), size), 0) << std::strerror(errno);

  auto profile = zc::profile_first_touch(buffer.bytes());
  ASSERT_TRUE(profile) << profile.error().message();
  EXPECT_EQ(profile->pages, size / page_size());
  EXPECT_LE(profile->minor_faults, 8U);
  EXPECT_EQ(profile->major_faults, 0U);
  ::munlock(buffer.data(), size);
}

TEST(FaultProfile, TouchesEveryPageAnUnalignedSpanOverlaps) {
  FreshMapping buffer(4 * page_size());
  ASSERT_TRUE(buffer.ok());
  std::memset(buffer.data(), 0xff, 4 * page_size());

  // From the middle of page 0 to the middle of page 2: three pages.
  const std::size_t half = page_size() / 2;
  auto profile = zc::profile_first_touch(buffer.bytes().subspan(half, 2 * page_size()));
  ASSERT_TRUE(profile) << profile.error().message();
  EXPECT_EQ(profile->pages, 3U);
  EXPECT_EQ(buffer.data()[half], std::byte{0}) << "first byte of the span";
  EXPECT_EQ(buffer.data()[page_size()], std::byte{0});
  EXPECT_EQ(buffer.data()[2 * page_size()], std::byte{0});
  EXPECT_EQ(buffer.data()[0], std::byte{0xff}) << "outside the span: untouched";
  EXPECT_EQ(buffer.data()[3 * page_size()], std::byte{0xff}) << "outside the span: untouched";
}

TEST(FaultProfile, EmptySpanIsAnInvalidArgument) {
  auto profile = zc::profile_first_touch({});
  ASSERT_FALSE(profile);
  EXPECT_EQ(profile.error().code(), zc::Errc::invalid_argument);
}

}  // namespace
