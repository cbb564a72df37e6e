// Region::pin and huge pages: locked memory, pre-faulting, RLIMIT_MEMLOCK and THP backing.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <span>
#include <sstream>
#include <string>

#include "support/capability_gate.hpp"
#include "support/child_process.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/mem/region.hpp"

namespace {

std::uint64_t vm_locked_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmLck:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

long minor_faults() {
  rusage usage{};
  ::getrusage(RUSAGE_THREAD, &usage);
  return usage.ru_minflt;
}

// AnonHugePages (KiB) of the mapping that contains `address`, from /proc/self/smaps.
std::uint64_t anon_huge_kib(const void* address) {
  const auto target = reinterpret_cast<std::uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    std::uintptr_t start = 0;
    std::uintptr_t end = 0;
    char dash = 0;
    std::istringstream range(line);
    if (range >> std::hex >> start >> dash >> end && dash == '-') {
      inside = start <= target && target < end;
    } else if (inside && line.rfind("AnonHugePages:", 0) == 0) {
      return std::stoull(line.substr(14));
    }
  }
  return 0;
}

// The selected word of a sysfs choice file: "always [madvise] never" -> "madvise".
std::string sysfs_choice(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  const auto open = line.find('[');
  const auto close = line.find(']');
  if (open == std::string::npos || close == std::string::npos) return line;
  return line.substr(open + 1, close - open - 1);
}

}  // namespace

TEST(RegionPin, PinnedRegionIsCountedInVmLckUntilUnpinned) {
  const std::uint64_t before = vm_locked_kib();
  auto region = zc::Region::create_shared(2 * zc::kMiB);
  ASSERT_TRUE(region) << region.error().message();
  auto pinned = region->pin();
  ASSERT_TRUE(pinned) << pinned.error().message();
  EXPECT_TRUE(region->pinned());
  EXPECT_GE(vm_locked_kib(), before + 2048);
  ASSERT_TRUE(region->pin()) << "pinning twice is harmless";

  ASSERT_TRUE(region->unpin());
  EXPECT_FALSE(region->pinned());
  EXPECT_EQ(vm_locked_kib(), before);
}

TEST(RegionPin, ReadOnlyViewCanBePinned) {
  auto region = zc::Region::create_shared(1 * zc::kMiB);
  ASSERT_TRUE(region) << region.error().message();
  auto fd = region->share(zc::Access::read_only);
  ASSERT_TRUE(fd) << fd.error().message();
  auto view = zc::Region::attach(std::move(*fd), zc::Access::read_only);
  ASSERT_TRUE(view) << view.error().message();
  const std::uint64_t before = vm_locked_kib();
  auto pinned = view->pin();
  ASSERT_TRUE(pinned) << pinned.error().message();
  EXPECT_GE(vm_locked_kib(), before + 1024);
}

TEST(RegionPin, DestroyingAPinnedRegionReleasesTheLock) {
  const std::uint64_t before = vm_locked_kib();
  {
    auto region = zc::Region::create_anonymous(1 * zc::kMiB, {.pin = true});
    ASSERT_TRUE(region) << region.error().message();
    EXPECT_GE(vm_locked_kib(), before + 1024);
  }
  EXPECT_EQ(vm_locked_kib(), before);
}

// Writes one byte into every page of `bytes` from the kernel (a raw read(2) of /dev/zero) and
// returns the minor faults this thread took meanwhile. The kernel's writes fault exactly where the
// program's would, but no sanitizer sees them, so no shadow memory is faulted in beside the region
// and the count measures the region alone, in every build.
long faults_writing_each_page(std::span<std::byte> bytes) {
  const int zero = ::open("/dev/zero", O_RDONLY | O_CLOEXEC);
  if (zero < 0) return -1;
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const long before = minor_faults();
  for (std::size_t offset = 0; offset < bytes.size(); offset += page) {
    if (::syscall(SYS_read, zero, bytes.data() + offset, 1) != 1) {
      ::close(zero);
      return -1;
    }
  }
  const long faults = minor_faults() - before;
  ::close(zero);
  return faults;
}

TEST(RegionPin, WritingAPinnedSharedRegionTakesNoPageFaults) {
  constexpr std::size_t kSize = 4 * zc::kMiB;
  const std::size_t pages = kSize / static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  auto region = zc::Region::create_shared(kSize, {.pin = true});
  ASSERT_TRUE(region) << region.error().message();
  const long faults = faults_writing_each_page(region->bytes());
  ASSERT_GE(faults, 0) << "read(/dev/zero) failed";
  EXPECT_LT(faults, 16) << faults << " minor faults writing " << pages << " pinned pages";

  // The same measurement sees every page fault once where nothing was pre-faulted.
  auto lazy = zc::Region::create_shared(kSize);
  ASSERT_TRUE(lazy) << lazy.error().message();
  EXPECT_GE(faults_writing_each_page(lazy->bytes()), static_cast<long>(pages) / 2);
}

TEST(RegionPin, PinFailsWithAClearMessageUnderALoweredMemlockLimit) {
  const int status = zc::test::run_in_child([] {
    if (!zc::test::drop_capability(CAP_IPC_LOCK)) return 2;
    const rlimit limit{zc::kMiB, zc::kMiB};
    if (::setrlimit(RLIMIT_MEMLOCK, &limit) != 0) return 3;

    auto big = zc::Region::create_anonymous(4 * zc::kMiB);
    if (!big) return 4;
    auto pinned = big->pin();
    if (pinned) return 5;
    if (pinned.error().code() != zc::Errc::limit_exceeded) return 6;
    const std::string message = pinned.error().message();
    if (message.find("RLIMIT_MEMLOCK") == std::string::npos) return 7;
    if (message.find("CAP_IPC_LOCK") == std::string::npos) return 8;
    if (message.find("4.0 MiB") == std::string::npos) return 9;
    if (big->pinned()) return 10;

    // Pinning at creation reports the same, and a region within the limit still pins.
    auto at_creation = zc::Region::create_shared(4 * zc::kMiB, {.pin = true});
    if (at_creation || at_creation.error().code() != zc::Errc::limit_exceeded) return 11;
    auto small = zc::Region::create_anonymous(512 * zc::kKiB, {.pin = true});
    if (!small) return 12;
    return 0;
  });
  EXPECT_EQ(status, 0) << "child check " << status << " failed";
}

TEST(RegionPin, AnonymousHugeRegionIsAlignedAndBackedByHugePages) {
  ZC_REQUIRE_CAPABILITY(zc::Capability::transparent_huge_pages);
  auto region = zc::Region::create_anonymous(3 * zc::kMiB, {.huge_pages = true, .pin = true});
  ASSERT_TRUE(region) << region.error().message();
  EXPECT_TRUE(region->huge_pages());
  EXPECT_EQ(region->size(), 4 * zc::kMiB);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(region->data()) % zc::Region::kHugePageSize, 0U);
  EXPECT_GE(anon_huge_kib(region->data()), 2048U)
      << "no huge page backs the region (fragmented memory, or THP defrag disabled?)";
}

TEST(RegionPin, SharedHugeRegionFollowsTheShmemSetting) {
  const std::string dir = "/sys/kernel/mm/transparent_hugepage/";
  const std::string global = sysfs_choice(dir + "shmem_enabled");
  const std::string sized = sysfs_choice(dir + "hugepages-2048kB/shmem_enabled");
  const std::string effective = (sized.empty() || sized == "inherit") ? global : sized;
  const bool enabled = effective == "always" || effective == "within_size" ||
                       effective == "advise" || effective == "force";

  auto region = zc::Region::create_shared(3 * zc::kMiB, {.huge_pages = true});
  if (enabled) {
    ASSERT_TRUE(region) << region.error().message();
    EXPECT_EQ(region->size(), 4 * zc::kMiB);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(region->data()) % zc::Region::kHugePageSize, 0U);
    return;
  }
  ASSERT_FALSE(region) << "shmem_enabled is '" << global << "', yet the huge region was created";
  EXPECT_EQ(region.error().code(), zc::Errc::capability_missing);
  const std::string message = region.error().message();
  EXPECT_NE(message.find(dir + "shmem_enabled"), std::string::npos) << message;
  EXPECT_NE(message.find("'" + global + "'"), std::string::npos) << message;
}
