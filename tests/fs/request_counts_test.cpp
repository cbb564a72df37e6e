// What the kernel asks the daemon for common steps, counted by operation: what it can remember
// (a name that does not exist) it is not asked again, and what would change nothing (a FLUSH on
// a file system whose close reports nothing) it is not asked at all.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "mount_fixture.hpp"

namespace zc::test {
namespace {

std::uint64_t count_of(const MountFixture& f, fs::MountOperation operation) {
  return f.mirror->stats().by_operation[static_cast<std::size_t>(operation)];
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

TEST(RequestCounts, AMissingNameIsLookedUpOnceWithinTheCacheTime) {
  ZC_REQUIRE_FUSE_MOUNT();
  MountFixture f;
  ASSERT_TRUE(f.mount(fs::MountMode::auto_select, 3600)) << f.error;
  EXPECT_FALSE(exists(f.mnt + "/missing"));
  const std::uint64_t lookups = count_of(f, fs::MountOperation::lookup);
  EXPECT_FALSE(exists(f.mnt + "/missing"));
  EXPECT_FALSE(exists(f.mnt + "/missing"));
  EXPECT_EQ(count_of(f, fs::MountOperation::lookup), lookups);
  // Created through the mount, it is there at once.
  std::ofstream(f.mnt + "/missing") << "now";
  EXPECT_TRUE(exists(f.mnt + "/missing"));
  EXPECT_EQ(slurp(f.src + "/missing"), "now");
}

TEST(RequestCounts, WithoutACacheTimeANameCreatedInTheSourceShowsAtOnce) {
  ZC_REQUIRE_FUSE_MOUNT();
  MountFixture f;
  ASSERT_TRUE(f.mount(fs::MountMode::auto_select, 0)) << f.error;
  EXPECT_FALSE(exists(f.mnt + "/later"));
  std::ofstream(f.src + "/later") << "made in SRC";
  EXPECT_TRUE(exists(f.mnt + "/later"));
}

TEST(RequestCounts, ClosingAFileWhoseFileSystemReportsNothingAtCloseSendsNoFlush) {
  ZC_REQUIRE_FUSE_MOUNT();
  MountFixture f;
  struct statfs fs {};
  ASSERT_EQ(::statfs(f.src.c_str(), &fs), 0);
  if (fs.f_type != EXT4_SUPER_MAGIC && fs.f_type != TMPFS_MAGIC) {
    ZC_SKIP_BECAUSE("the scratch directory is on neither ext4 nor tmpfs");
  }
  ASSERT_TRUE(f.mount(fs::MountMode::auto_select)) << f.error;
  for (int flags : {O_WRONLY | O_CREAT, O_RDONLY, O_RDWR}) {
    const int fd = ::open((f.mnt + "/closed").c_str(), flags | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    if ((flags & O_ACCMODE) != O_RDONLY) {
      ASSERT_EQ(::write(fd, "x", 1), 1);
    }
    ASSERT_EQ(::close(fd), 0);
  }
  EXPECT_EQ(count_of(f, fs::MountOperation::flush), 0U);
  EXPECT_EQ(slurp(f.src + "/closed"), "x");
}

}  // namespace
}  // namespace zc::test
