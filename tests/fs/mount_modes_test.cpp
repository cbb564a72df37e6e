// Which path file data takes in each mode, seen from the daemon's counters: passthrough leaves
// the daemon out of reads and writes, splice and copy answer them; auto falls back loudly.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "mount_fixture.hpp"
#include "support/child_process.hpp"

namespace zc::test {
namespace {

const std::string kData(300 * 1024, 'z');

TEST(MountModes, NamesRoundTrip) {
  for (auto mode : {fs::MountMode::auto_select, fs::MountMode::passthrough, fs::MountMode::splice,
                    fs::MountMode::copy}) {
    EXPECT_EQ(fs::mount_mode_from_name(fs::to_string(mode)), mode);
  }
  EXPECT_FALSE(fs::mount_mode_from_name("zero"));
}

TEST(MountModes, PassthroughKeepsFileDataAwayFromTheDaemon) {
  ZC_REQUIRE_FUSE_MOUNT();
  ZC_REQUIRE_CAPABILITY(Capability::fuse_passthrough);
  MountFixture f;
  std::ofstream(f.src + "/data") << kData;
  ASSERT_TRUE(f.mount(fs::MountMode::passthrough)) << f.error;
  ASSERT_EQ(f.mirror->active_mode(), fs::MountMode::passthrough);
  EXPECT_EQ(slurp(f.mnt + "/data"), kData);
  std::ofstream(f.mnt + "/written") << kData;
  EXPECT_EQ(slurp(f.src + "/written"), kData);
  const fs::MountStats stats = f.mirror->stats();
  EXPECT_EQ(stats.reads, 0U);
  EXPECT_EQ(stats.writes, 0U);
  EXPECT_GE(stats.passthrough_opens, 2U);
  // RELEASE arrives after close returns; the backing ids go with it.
  for (int i = 0; i < 500 && f.mirror->stats().backing_files != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(f.mirror->stats().backing_files, 0U);
}

TEST(MountModes, AutoChoosesPassthroughWhenTheKernelGrantsIt) {
  ZC_REQUIRE_FUSE_MOUNT();
  ZC_REQUIRE_CAPABILITY(Capability::fuse_passthrough);
  MountFixture f;
  ASSERT_TRUE(f.mount(fs::MountMode::auto_select)) << f.error;
  EXPECT_EQ(f.mirror->active_mode(), fs::MountMode::passthrough);
  EXPECT_EQ(f.mirror->fallback_reason(), "");
}

class DaemonModes : public ::testing::TestWithParam<fs::MountMode> {};

TEST_P(DaemonModes, ReadsAndWritesPassThroughTheDaemon) {
  ZC_REQUIRE_FUSE_MOUNT();
  MountFixture f;
  std::ofstream(f.src + "/data") << kData;
  ASSERT_TRUE(f.mount(GetParam())) << f.error;
  ASSERT_EQ(f.mirror->active_mode(), GetParam());
  EXPECT_EQ(slurp(f.mnt + "/data"), kData);
  std::ofstream(f.mnt + "/written") << kData;
  EXPECT_EQ(slurp(f.src + "/written"), kData);
  const fs::MountStats stats = f.mirror->stats();
  EXPECT_GT(stats.reads, 0U);
  EXPECT_GE(stats.read_bytes, kData.size());
  EXPECT_GT(stats.writes, 0U);
  EXPECT_EQ(stats.write_bytes, kData.size());
  EXPECT_EQ(stats.passthrough_opens, 0U);
}

INSTANTIATE_TEST_SUITE_P(Modes, DaemonModes,
                         ::testing::Values(fs::MountMode::splice, fs::MountMode::copy), mode_name);

TEST(MountModes, WithoutCapSysAdminAutoFallsBackToSpliceAndSaysWhy) {
  ZC_REQUIRE_FUSE_MOUNT();
  MountFixture f;
  const int status = run_in_child([&] {
    if (!drop_capability(CAP_SYS_ADMIN)) return 10;
    auto mount = fs::Mount::start(f.src, f.mnt, fs::MountOptions{});
    if (!mount) return 11;  // fusermount3 missing or refused
    if (mount->active_mode() != fs::MountMode::splice) return 12;
    if (mount->fallback_reason().find("CAP_SYS_ADMIN") == std::string::npos) return 13;
    std::ofstream(f.mnt + "/x") << "x";
    (void)mount->stop();
    return std::filesystem::exists(f.src + "/x") ? 0 : 14;
  });
  EXPECT_EQ(status, 0);
  const int refused = run_in_child([&] {
    if (!drop_capability(CAP_SYS_ADMIN)) return 10;
    fs::MountOptions options;
    options.mode = fs::MountMode::passthrough;
    auto mount = fs::Mount::start(f.src, f.mnt, options);
    if (mount) return 11;
    return mount.error().code() == Errc::capability_missing ? 0 : 12;
  });
  EXPECT_EQ(refused, 0);
}

}  // namespace
}  // namespace zc::test
