// `zcopy mount` and `zcopy umount` as a user runs them: signals unmount cleanly, a daemon killed
// with SIGKILL leaves ENOTCONN, and `zcopy umount` clears it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mount_fixture.hpp"
#include "support/child_process.hpp"
#include "uring_parameter.hpp"

namespace zc::test {
namespace {

constexpr long kFuseMagic = 0x65735546;

std::string tool() {
  const char* path = std::getenv("ZCOPY_TOOL");
  return path != nullptr ? path : "zcopy";
}

bool is_fuse_mount(const std::string& path) {
  struct statfs st {};
  return ::statfs(path.c_str(), &st) == 0 && st.f_type == kFuseMagic;
}

// Waits up to 10 s for `condition`.
template <class Condition>
bool eventually(Condition condition) {
  for (int i = 0; i < 1000; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

// Runs `zcopy mount SRC MNT --foreground` in a child; kills it in the destructor if it lives.
class ForegroundDaemon {
 public:
  ForegroundDaemon(const MountFixture& f, const std::string& mode,
                   const std::string& transport = "auto") {
    auto child = bench::Process::spawn(
        {tool(), "mount", f.src, f.mnt, "--foreground", "--mode", mode, "--transport", transport},
        {.out = bench::Output::inherit, .err = bench::Output::inherit});
    if (child) process_ = std::move(*child);
  }
  pid_t pid() const { return process_.pid(); }
  std::optional<int> wait() {
    if (!process_.running()) return std::nullopt;
    return process_.wait().code;
  }

 private:
  bench::Process process_;
};

// Killed with requests still to come, on each transport. Through io_uring the kernel ends the
// requests caught in its teardown of the rings with ECONNABORTED or ECANCELED; once the
// connection is aborted every later one gets ENOTCONN, as through /dev/fuse.
std::string transport_name(const ::testing::TestParamInfo<const char*>& param) {
  return param.param;
}

class SigkillOnTransport : public ::testing::TestWithParam<const char*> {};

TEST_P(SigkillOnTransport, LeavesEnotconnThatUmountClears) {
  ZC_REQUIRE_FUSE_MOUNT();
  const bool uring = std::string(GetParam()) == "uring";
  std::optional<UringParameter> parameter;
  if (uring) {
    ZC_REQUIRE_URING_PARAMETER();
    parameter.emplace(true);
    ASSERT_TRUE(parameter->set());
  }
  MountFixture f;
  ForegroundDaemon daemon(f, "splice", GetParam());
  ASSERT_GT(daemon.pid(), 0);
  ASSERT_TRUE(eventually([&] { return is_fuse_mount(f.mnt); }));
  std::ofstream(f.mnt + "/file") << "written through the mount";
  ASSERT_EQ(::kill(daemon.pid(), SIGKILL), 0);
  EXPECT_EQ(daemon.wait(), 128 + SIGKILL);
  struct stat st {};
  if (uring) {
    // The rings are torn down by the kernel's io_uring exit work after the process is gone, so
    // until the connection is aborted requests end ECONNABORTED or ECANCELED; never success.
    std::vector<std::string> seen;
    EXPECT_TRUE(eventually([&] {
      if (::stat((f.mnt + "/file").c_str(), &st) == 0) {
        seen.emplace_back("success");
        return false;
      }
      if (errno == ENOTCONN) return true;
      if (errno != ECONNABORTED && errno != ECANCELED) seen.emplace_back(::strerrorname_np(errno));
      return false;
    }));
    EXPECT_TRUE(seen.empty()) << seen.front();
  }
  EXPECT_EQ(::stat((f.mnt + "/file").c_str(), &st), -1);
  EXPECT_EQ(errno, ENOTCONN);
  const Shell umount = sh(tool() + " umount " + f.mnt);
  EXPECT_EQ(umount.status, 0) << umount.output;
  EXPECT_FALSE(is_fuse_mount(f.mnt));
  EXPECT_EQ(::stat(f.mnt.c_str(), &st), 0);
  EXPECT_TRUE(std::filesystem::exists(f.src + "/file"));
}

INSTANTIATE_TEST_SUITE_P(Transports, SigkillOnTransport, ::testing::Values("dev", "uring"),
                         transport_name);

std::string signal_name(const ::testing::TestParamInfo<int>& param) {
  return param.param == SIGINT ? "SIGINT" : "SIGTERM";
}

// `zcopy umount` right after an io_uring daemon died, while the kernel still tears its queues
// down (requests then end ECONNABORTED or ECANCELED, not yet ENOTCONN): the mount is cleared.
TEST(MountLifecycle, UmountRightAfterAnIoUringDaemonDiedClearsTheMount) {
  ZC_REQUIRE_FUSE_MOUNT();
  ZC_REQUIRE_URING_PARAMETER();
  UringParameter parameter(true);
  ASSERT_TRUE(parameter.set());
  for (int round = 0; round < 10; ++round) {
    MountFixture f;
    ForegroundDaemon daemon(f, "splice", "uring");
    ASSERT_GT(daemon.pid(), 0);
    ASSERT_TRUE(eventually([&] { return is_fuse_mount(f.mnt); }));
    std::ofstream(f.mnt + "/file") << "written through the mount";
    ASSERT_EQ(::kill(daemon.pid(), SIGKILL), 0);
    EXPECT_EQ(daemon.wait(), 128 + SIGKILL);
    const Shell umount = sh(tool() + " umount " + f.mnt);
    ASSERT_EQ(umount.status, 0) << "round " << round << ": " << umount.output;
    EXPECT_FALSE(is_fuse_mount(f.mnt));
  }
}

class StopSignal : public ::testing::TestWithParam<int> {};

TEST_P(StopSignal, UnmountsCleanlyAndExitsZero) {
  ZC_REQUIRE_FUSE_MOUNT();
  MountFixture f;
  ForegroundDaemon daemon(f, "auto");
  ASSERT_TRUE(eventually([&] { return is_fuse_mount(f.mnt); }));
  std::ofstream(f.mnt + "/kept") << "kept";
  ASSERT_EQ(::kill(daemon.pid(), GetParam()), 0);
  EXPECT_EQ(daemon.wait(), 0);
  EXPECT_FALSE(is_fuse_mount(f.mnt));
  EXPECT_TRUE(std::filesystem::exists(f.src + "/kept"));
}

INSTANTIATE_TEST_SUITE_P(Signals, StopSignal, ::testing::Values(SIGINT, SIGTERM), signal_name);

TEST(MountLifecycle, BackgroundDaemonServesUntilUmount) {
  ZC_REQUIRE_FUSE_MOUNT();
  MountFixture f;
  const Shell mount = sh(tool() + " mount " + f.src + " " + f.mnt + " --mode copy");
  ASSERT_EQ(mount.status, 0) << mount.output;
  EXPECT_NE(mount.output.find("mode copy"), std::string::npos) << mount.output;
  EXPECT_TRUE(is_fuse_mount(f.mnt));
  std::ofstream(f.mnt + "/x") << "x";
  EXPECT_TRUE(std::filesystem::exists(f.src + "/x"));
  const Shell umount = sh(tool() + " umount " + f.mnt);
  EXPECT_EQ(umount.status, 0) << umount.output;
  EXPECT_FALSE(is_fuse_mount(f.mnt));
}

// `zcopy umount MNT && zcopy mount SRC MNT`: the first daemon ends after the second mount is
// made. The kernel hands the freed mount id to the new mount at once, so a daemon that knew its
// mount by that id unmounted its successor on the way out.
TEST(MountLifecycle, AMountMadeRightAfterAnUmountOutlivesThePreviousDaemon) {
  ZC_REQUIRE_FUSE_MOUNT();
  MountFixture f;
  std::ofstream(f.src + "/file") << "still here";
  for (int round = 0; round < 3; ++round) {
    const Shell again =
        sh(tool() + " mount " + f.src + " " + f.mnt + " --mode splice && " + tool() + " umount " +
           f.mnt + " && " + tool() + " mount " + f.src + " " + f.mnt + " --mode splice");
    ASSERT_EQ(again.status, 0) << again.output;
    // The first daemon looks for the end of its mount every 200 ms.
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    EXPECT_TRUE(is_fuse_mount(f.mnt)) << "round " << round << ": the new mount was taken down";
    EXPECT_EQ(slurp(f.mnt + "/file"), "still here");
    const Shell umount = sh(tool() + " umount " + f.mnt);
    ASSERT_EQ(umount.status, 0) << umount.output;
  }
}

TEST(MountLifecycle, StoppingLeavesAMountPutOverTheMountPointAlone) {
  ZC_REQUIRE_FUSE_MOUNT();
  MountFixture f;
  ASSERT_TRUE(f.mount_in_child(fs::MountMode::splice)) << f.error;
  ASSERT_EQ(::mount("tmpfs", f.mnt.c_str(), "tmpfs", 0, "size=1m"), 0) << std::strerror(errno);
  std::ofstream(f.mnt + "/on-top") << "someone else's";
  f.stop_daemon();
  EXPECT_EQ(f.daemon_exit, 0);
  struct statfs st {};
  ASSERT_EQ(::statfs(f.mnt.c_str(), &st), 0);
  EXPECT_EQ(st.f_type, TMPFS_MAGIC);
  EXPECT_EQ(slurp(f.mnt + "/on-top"), "someone else's");
  EXPECT_NE(f.daemon_log().find("covered by another mount"), std::string::npos) << f.daemon_log();
  // Once uncovered, what is left of the mirror is cleared like a dead daemon's.
  ASSERT_EQ(::umount2(f.mnt.c_str(), 0), 0);
  const Shell umount = sh(tool() + " umount " + f.mnt);
  EXPECT_EQ(umount.status, 0) << umount.output;
  EXPECT_FALSE(is_fuse_mount(f.mnt));
}

TEST(MountLifecycle, UmountRefusesWhatIsNotFuse) {
  TempDir dir;
  const Shell umount = sh(tool() + " umount " + dir.path());
  EXPECT_EQ(umount.status, 1);
  EXPECT_NE(umount.output.find("not a FUSE mount"), std::string::npos) << umount.output;
}

// A mount point inside SRC would put the mirror inside itself (mnt/mnt/mnt/... without end, each
// level a new file system to find and tar), however it is named: directly, or through a symlink.
TEST(MountLifecycle, MountRefusesAMountPointInsideTheSource) {
  ZC_REQUIRE_FUSE_MOUNT();
  TempDir dir;
  const std::string src = dir / "src";
  std::filesystem::create_directories(src + "/deep/mnt");
  std::filesystem::create_directory_symlink(src + "/deep", dir / "link");
  for (const std::string& mnt : {src + "/deep/mnt", dir / "link/mnt"}) {
    const Shell mount = sh(tool() + " mount " + src + " " + mnt);
    EXPECT_NE(mount.status, 0) << mount.output;
    EXPECT_NE(mount.output.find("inside the source"), std::string::npos) << mount.output;
    EXPECT_FALSE(is_fuse_mount(mnt));
    if (is_fuse_mount(mnt)) (void)sh(tool() + " umount " + mnt);
  }
  // Beside it, and on the source itself (the daemon holds the directory beneath), it mounts.
  std::filesystem::create_directory(dir / "beside");
  for (const std::string& mnt : {dir / "beside", src}) {
    const Shell mount = sh(tool() + " mount " + src + " " + mnt);
    EXPECT_EQ(mount.status, 0) << mount.output;
    EXPECT_TRUE(is_fuse_mount(mnt));
    EXPECT_EQ(sh(tool() + " umount " + mnt).status, 0);
  }
}

TEST(MountLifecycle, MountRejectsAMissingSource) {
  TempDir dir;
  const Shell mount = sh(tool() + " mount " + dir.path() + "/absent " + dir.path() + " -f");
  EXPECT_EQ(mount.status, 1);
  EXPECT_NE(mount.output.find("absent"), std::string::npos) << mount.output;
}

// The descriptors this process holds on anything beneath `dir`.
int descriptors_beneath(const std::string& dir) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code error;
    const std::string target = std::filesystem::read_symlink(entry.path(), error).string();
    if (!error && target.starts_with(dir + "/")) ++count;
  }
  return count;
}

class StopWithFilesOpen : public ::testing::TestWithParam<fs::MountMode> {};

// Files and directories still open when the mount stops are never released by the kernel (nor
// is a RELEASE still in flight from an unmount that raced the last close): the mount frees their
// handles itself, with the descriptors they hold on SRC.
TEST_P(StopWithFilesOpen, LeavesNoHandleOrDescriptorBehind) {
  ZC_REQUIRE_FUSE_MOUNT();
  MountFixture f;
  std::filesystem::create_directory(f.src + "/d");
  std::ofstream(f.src + "/d/file") << "contents";
  ASSERT_TRUE(f.mount(GetParam())) << f.error;
  const int file = ::open((f.mnt + "/d/file").c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(file, 0) << std::strerror(errno);
  const int dir = ::open((f.mnt + "/d").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dir, 0) << std::strerror(errno);
  ASSERT_GE(descriptors_beneath(f.src), 1);  // the daemon's own, for the open file at least
  ASSERT_TRUE(f.mirror->stop());
  f.mirror.reset();
  EXPECT_EQ(descriptors_beneath(f.src), 0);
  ::close(file);
  ::close(dir);
}

INSTANTIATE_TEST_SUITE_P(Modes, StopWithFilesOpen,
                         ::testing::Values(fs::MountMode::splice, fs::MountMode::auto_select));

}  // namespace
}  // namespace zc::test
