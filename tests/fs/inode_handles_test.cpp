// Inodes are held by file handle where the source allows it; where it does not (a file system
// that exports no handles, a daemon without CAP_DAC_READ_SEARCH) each is held by an O_PATH
// descriptor instead, the mount says so once, and everything works as before.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "mount_fixture.hpp"
#include "scripted_source.hpp"
#include "tree_workload.hpp"

namespace zc::test {
namespace {

std::size_t count_of(const std::string& text, const std::string& part) {
  std::size_t count = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++count;
  return count;
}

TEST(InodeHandles, ALocalSourceIsServedByHandlesWithoutALogLine) {
  ZC_REQUIRE_FUSE_MOUNT();
  ZC_REQUIRE_CAPABILITY(Capability::fuse_file_handles);
  MountFixture f;
  ASSERT_TRUE(f.mount_in_child(fs::MountMode::splice)) << f.error;
  const TreeShape shape{.directories = 2, .files_per_directory = 50};
  EXPECT_EQ(create_tree(f.mnt + "/tree", shape).first_error, "");
  EXPECT_EQ(read_tree(f.mnt + "/tree", shape).first_error, "");
  auto report = f.daemon_report();
  ASSERT_TRUE(report);
  EXPECT_GE(report->inodes, shape.files());
  EXPECT_EQ(f.daemon_log(), "");
  f.unmount();
}

TEST(InodeHandles, ASourceWithoutHandlesIsServedByDescriptorsAndSaysSoOnce) {
  ZC_REQUIRE_FUSE_MOUNT();
  MountFixture f;
  ScriptedSource source(f.src, {scripted_file("a", 0644), scripted_file("b", 0644)});
  ASSERT_TRUE(source.mounted()) << source.error();
  ASSERT_TRUE(f.mount_in_child(fs::MountMode::splice)) << f.error;
  EXPECT_TRUE(S_ISREG(lstat_of(f.mnt + "/a").st_mode));
  EXPECT_TRUE(S_ISREG(lstat_of(f.mnt + "/b").st_mode));
  const std::string log = f.daemon_log();
  EXPECT_EQ(count_of(log, "\n"), 1U) << log;
  EXPECT_EQ(count_of(log, "O_PATH descriptors"), 1U) << log;
  f.unmount();
}

TEST(InodeHandles, WithoutCapDacReadSearchInodesAreHeldByDescriptorsAndAllStillWorks) {
  ZC_REQUIRE_FUSE_MOUNT();
  MountFixture f;
  f.daemon_drops_capabilities = {CAP_DAC_READ_SEARCH};
  ASSERT_TRUE(f.mount_in_child(fs::MountMode::splice)) << f.error;
  const TreeShape shape{.directories = 2, .files_per_directory = 50};
  EXPECT_EQ(create_tree(f.mnt + "/tree", shape).first_error, "");
  EXPECT_EQ(stat_tree(f.mnt + "/tree", shape).first_error, "");
  EXPECT_EQ(read_tree(f.mnt + "/tree", shape).first_error, "");
  EXPECT_EQ(remove_tree(f.mnt + "/tree", shape).first_error, "");
  const std::string log = f.daemon_log();
  EXPECT_EQ(count_of(log, "CAP_DAC_READ_SEARCH"), 1U) << log;
  f.unmount();
  EXPECT_EQ(f.daemon_exit, 0);
}

TEST(InodeHandles, ListingADirectoryOpensNoDescriptorForItsEntries) {
  ZC_REQUIRE_FUSE_MOUNT();
  ZC_REQUIRE_CAPABILITY(Capability::fuse_file_handles);
  MountFixture f;
  constexpr int kFiles = 100;
  const std::string dir = f.src + "/d";
  const std::string content(kFiles, 'x');  // file i holds i bytes of it
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  for (int i = 0; i < kFiles; ++i) {
    const std::string path = dir + "/f" + std::to_string(i);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    ASSERT_GE(fd, 0) << path;
    ASSERT_EQ(::write(fd, content.data(), static_cast<size_t>(i)), i);
    ::close(fd);
  }
  ASSERT_EQ(::link((dir + "/f7").c_str(), (dir + "/hard").c_str()), 0);
  ASSERT_EQ(::symlink("f1", (dir + "/link").c_str()), 0);
  ASSERT_TRUE(f.mount_in_child(fs::MountMode::splice)) << f.error;

  // A listing (READDIRPLUS: names with attributes) makes the kernel know every entry.
  const Shell listing = sh("ls -f " + f.mnt + "/d");
  ASSERT_EQ(listing.status, 0) << listing.output;
  auto report = f.daemon_report();
  ASSERT_TRUE(report);
  EXPECT_GE(report->inodes, static_cast<std::uint64_t>(kFiles));
  EXPECT_LT(report->cached_descriptors, 10U);

  // What the listing told the kernel is each entry's own stat.
  for (int i = 0; i < kFiles; i += 9) {
    const std::string name = "/d/f" + std::to_string(i);
    const struct stat seen = lstat_of(f.mnt + name);
    EXPECT_EQ(seen.st_size, i) << name;
    EXPECT_EQ(seen.st_mode, S_IFREG | 0640) << name;
    EXPECT_EQ(seen.st_ino, lstat_of(f.src + name).st_ino) << name;
  }
  EXPECT_EQ(lstat_of(f.mnt + "/d/hard").st_ino, lstat_of(f.mnt + "/d/f7").st_ino);
  EXPECT_TRUE(S_ISLNK(lstat_of(f.mnt + "/d/link").st_mode));
  const Shell read_back = sh("cat " + f.mnt + "/d/link " + f.mnt + "/d/hard");
  EXPECT_EQ(read_back.output, content.substr(0, 1 + 7));
  f.unmount();
}

TEST(InodeHandles, LookingNamesUpOpensNoDescriptorForThem) {
  ZC_REQUIRE_FUSE_MOUNT();
  ZC_REQUIRE_CAPABILITY(Capability::fuse_file_handles);
  MountFixture f;
  constexpr int kFiles = 100;
  ASSERT_EQ(::mkdir((f.src + "/d").c_str(), 0755), 0);
  for (int i = 0; i < kFiles; ++i) {
    const std::string path = f.src + "/d/f" + std::to_string(i);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0) << path;
    ::close(fd);
  }
  ASSERT_TRUE(f.mount_in_child(fs::MountMode::splice)) << f.error;

  // Each name by its path, never listed: one LOOKUP each.
  for (int i = 0; i < kFiles; ++i) {
    const std::string name = "/d/f" + std::to_string(i);
    EXPECT_EQ(lstat_of(f.mnt + name).st_ino, lstat_of(f.src + name).st_ino) << name;
  }
  auto report = f.daemon_report();
  ASSERT_TRUE(report);
  EXPECT_GE(report->inodes, static_cast<std::uint64_t>(kFiles));
  EXPECT_LT(report->cached_descriptors, 10U);
  // What has no descriptor is opened through its handle when it is used.
  EXPECT_EQ(sh("echo x > " + f.mnt + "/d/f3 && cat " + f.mnt + "/d/f3").output, "x\n");
  f.unmount();
}

}  // namespace
}  // namespace zc::test
