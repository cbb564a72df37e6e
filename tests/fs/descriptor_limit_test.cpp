// A daemon whose open-file limit is far below the number of files it serves: inodes at rest hold
// no descriptor, so a tree many times the limit is created, listed, read and removed; when open
// files really do exhaust the limit, the one operation fails with EMFILE and the mount goes on.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "mount_fixture.hpp"
#include "tree_workload.hpp"

namespace zc::test {
namespace {

class DescriptorLimit : public ::testing::Test {
 protected:
  void SetUp() override { ZC_REQUIRE_FUSE_MOUNT(); }

  bool mount_with_limit(rlim_t limit) {
    f.daemon_descriptor_limit = limit;
    return f.mount_in_child(fs::MountMode::splice);
  }

  MountFixture f;
};

// The "Max open files" soft and hard limits of process `pid`.
std::pair<std::string, std::string> open_file_limits(pid_t pid) {
  std::istringstream limits(slurp("/proc/" + std::to_string(pid) + "/limits"));
  for (std::string line; std::getline(limits, line);) {
    if (!line.starts_with("Max open files")) continue;
    std::istringstream fields(line.substr(std::strlen("Max open files")));
    std::string soft;
    std::string hard;
    fields >> soft >> hard;
    return {soft, hard};
  }
  return {};
}

TEST_F(DescriptorLimit, TheSoftLimitIsRaisedToTheHardOneAtStart) {
  for (int i = 0; i < 200; ++i) {
    const std::string path = f.src + "/held" + std::to_string(i);
    ASSERT_EQ(::close(::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644)), 0);
  }
  f.daemon_descriptor_limit = 64;
  f.daemon_hard_descriptor_limit = 4096;
  ASSERT_TRUE(f.mount_in_child(fs::MountMode::splice)) << f.error;
  EXPECT_EQ(open_file_limits(f.daemon_pid()),
            std::make_pair(std::string("4096"), std::string("4096")));
  // So three times the soft limit it started with are open at once through the mount.
  std::vector<int> held;
  for (int i = 0; i < 200; ++i) {
    const int fd = ::open((f.mnt + "/held" + std::to_string(i)).c_str(), O_RDONLY | O_CLOEXEC);
    EXPECT_GE(fd, 0) << i << ": " << std::strerror(errno);
    if (fd < 0) break;
    held.push_back(fd);
  }
  for (int fd : held) ::close(fd);
  f.unmount();
  EXPECT_EQ(f.daemon_exit, 0);
}

TEST_F(DescriptorLimit, ATreeManyTimesTheLimitIsCreatedListedReadAndRemoved) {
  ASSERT_TRUE(mount_with_limit(64)) << f.error;
  const TreeShape shape{.directories = 4, .files_per_directory = 500};
  const std::string root = f.mnt + "/tree";

  const TreeStep created = create_tree(root, shape);
  EXPECT_EQ(created.first_error, "");
  EXPECT_EQ(created.done, shape.files());
  const TreeStep stated = stat_tree(root, shape);
  EXPECT_EQ(stated.first_error, "");
  EXPECT_EQ(stated.done, shape.files());
  auto report = f.daemon_report();
  ASSERT_TRUE(report);
  EXPECT_LE(report->descriptors, 64U);
  const TreeStep read = read_tree(root, shape);
  EXPECT_EQ(read.first_error, "");
  EXPECT_EQ(read.done, shape.files());
  const TreeStep removed = remove_tree(root, shape);
  EXPECT_EQ(removed.first_error, "");
  EXPECT_EQ(removed.done, shape.files());
  f.unmount();
  EXPECT_EQ(f.daemon_exit, 0);
}

TEST_F(DescriptorLimit, ListingADirectoryLargerThanTheLimitShowsEveryEntry) {
  ASSERT_EQ(::mkdir((f.src + "/dir").c_str(), 0755), 0);
  for (int i = 0; i < 200; ++i) {
    const std::string path = f.src + "/dir/entry" + std::to_string(i);
    ASSERT_EQ(::close(::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644)), 0);
  }
  ASSERT_TRUE(mount_with_limit(60)) << f.error;
  const Shell listing = sh("ls " + f.mnt + "/dir | wc -l");
  EXPECT_EQ(listing.status, 0);
  EXPECT_EQ(listing.output, "200\n");
  f.unmount();
}

TEST_F(DescriptorLimit, RunningOutFailsOneOperationWithEmfileAndTheMountGoesOn) {
  for (int i = 0; i < 200; ++i) {
    const std::string path = f.src + "/held" + std::to_string(i);
    ASSERT_EQ(::close(::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644)), 0);
  }
  ASSERT_TRUE(mount_with_limit(64)) << f.error;
  // Each file open through the mount holds a descriptor in the daemon: the limit is reached.
  std::vector<int> held;
  int failure = 0;
  for (int i = 0; i < 200 && failure == 0; ++i) {
    const int fd = ::open((f.mnt + "/held" + std::to_string(i)).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      failure = errno;
    } else {
      held.push_back(fd);
    }
  }
  EXPECT_EQ(failure, EMFILE) << ::strerrorname_np(failure);
  EXPECT_GT(held.size(), 10U);
  for (int fd : held) ::close(fd);
  // The daemon is not wedged: it creates, lists and reads a tree larger than its limit.
  const TreeShape shape{.directories = 2, .files_per_directory = 200};
  const TreeStep created = create_tree(f.mnt + "/after", shape);
  EXPECT_EQ(created.first_error, "");
  const TreeStep read = read_tree(f.mnt + "/after", shape);
  EXPECT_EQ(read.first_error, "");
  EXPECT_EQ(read.done, shape.files());
  f.unmount();
  EXPECT_EQ(f.daemon_exit, 0);
}

}  // namespace
}  // namespace zc::test
