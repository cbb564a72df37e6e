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

}  // namespace
}  // namespace zc::test
