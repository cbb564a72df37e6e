// A file the kernel will not pass through (one on an overlay mounted inside SRC: the stacking
// limit answers ELOOP) is served by the daemon, alone: every other file keeps passthrough, files
// already open keep working, and the mount says so once.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "mount_fixture.hpp"

namespace zc::test {
namespace {

// Everything read from `fd` from offset 0.
std::string read_all(int fd) {
  std::string text;
  char chunk[4096];
  off_t at = 0;
  for (ssize_t n; (n = ::pread(fd, chunk, sizeof chunk, at)) > 0; at += n) {
    text.append(chunk, static_cast<std::size_t>(n));
  }
  return text;
}

class PassthroughFallback : public ::testing::TestWithParam<fs::MountMode> {
 protected:
  void SetUp() override {
    ZC_REQUIRE_FUSE_MOUNT();
    ZC_REQUIRE_CAPABILITY(Capability::fuse_passthrough);
    ZC_REQUIRE_ROOT("to mount an overlay inside the source");
    for (const char* dir : {"/lower", "/upper", "/work"}) {
      ASSERT_EQ(::mkdir((f.dir() + dir).c_str(), 0755), 0);
    }
    std::ofstream(f.dir() + "/lower/stacked") << "from the overlay";
    ASSERT_EQ(::mkdir((f.src + "/overlay").c_str(), 0755), 0);
    const std::string options = "lowerdir=" + f.dir() + "/lower,upperdir=" + f.dir() +
                                "/upper,workdir=" + f.dir() + "/work";
    ASSERT_EQ(::mount("overlay", (f.src + "/overlay").c_str(), "overlay", 0, options.c_str()), 0)
        << std::strerror(errno);
    overlay_mounted_ = true;
    std::ofstream(f.src + "/plain") << "from the source";
  }
  void TearDown() override {
    f.unmount();
    if (overlay_mounted_) ::umount2((f.src + "/overlay").c_str(), MNT_DETACH);
  }

  MountFixture f;
  bool overlay_mounted_ = false;
};

TEST_P(PassthroughFallback, OnlyTheRefusedFileIsServedByTheDaemon) {
  std::mutex log_mutex;
  std::vector<std::string> log;
  fs::MountOptions options;
  options.mode = GetParam();
  options.log = [&](std::string_view line) {
    const std::lock_guard lock(log_mutex);
    log.emplace_back(line);
  };
  auto mount = fs::Mount::start(f.src, f.mnt, options);
  ASSERT_TRUE(mount) << mount.error().message();
  f.mirror.emplace(std::move(*mount));
  ASSERT_EQ(f.mirror->active_mode(), fs::MountMode::passthrough);

  const int first = ::open((f.mnt + "/plain").c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(first, 0) << std::strerror(errno);
  EXPECT_EQ(slurp(f.mnt + "/overlay/stacked"), "from the overlay");
  // The mount is still in passthrough mode, for a file open before and one opened after.
  const int second = ::open((f.mnt + "/plain").c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_GE(second, 0) << std::strerror(errno);
  EXPECT_EQ(read_all(first), "from the source");
  if (second >= 0) {
    EXPECT_EQ(read_all(second), "from the source");
  }
  ::close(first);
  if (second >= 0) ::close(second);
  // The overlay file is written through the daemon too.
  std::ofstream(f.mnt + "/overlay/stacked") << "written through";
  EXPECT_EQ(slurp(f.src + "/overlay/stacked"), "written through");

  const fs::MountStats stats = f.mirror->stats();
  EXPECT_EQ(f.mirror->active_mode(), fs::MountMode::passthrough);
  EXPECT_GE(stats.passthrough_opens, 2U);
  EXPECT_GE(stats.passthrough_refusals, 1U);
  EXPECT_GT(stats.reads, 0U);
  const std::lock_guard lock(log_mutex);
  std::size_t said = 0;
  for (const std::string& line : log)
    said += line.find("served by the daemon") != std::string::npos;
  EXPECT_EQ(said, 1U);
}

INSTANTIATE_TEST_SUITE_P(Modes, PassthroughFallback,
                         ::testing::Values(fs::MountMode::passthrough, fs::MountMode::auto_select),
                         mode_name);

}  // namespace
}  // namespace zc::test
