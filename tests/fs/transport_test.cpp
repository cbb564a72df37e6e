// `zcopy mount --transport`: with the fuse module's enable_uring parameter on, `uring` (and
// `auto`) serve through FUSE over io_uring and the mirror behaves as through /dev/fuse; with it
// off, `auto` says why it serves through /dev/fuse and `uring` is refused in one line naming the
// parameter; `zcopy doctor` reports the parameter and how to turn it on. The tests set the
// parameter themselves (as root) and put back what was there.
#include "zcopy/fs/transport.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "mount_fixture.hpp"
#include "uring_parameter.hpp"

namespace zc::test {
namespace {

constexpr const char* kParameter = kUringParameter;

std::string write_file(const std::string& path, const std::string& data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return "create " + path + ": " + ::strerrorname_np(errno);
  const ssize_t n = ::write(fd, data.data(), data.size());
  const int closed = ::close(fd);
  if (n != static_cast<ssize_t>(data.size()) || closed != 0) return "write " + path;
  return {};
}

std::vector<std::string> names_in(const std::string& path) {
  std::vector<std::string> names;
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return {"opendir failed"};
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

// Create, write, read, list, rename and unlink `count` files in `dir`; "" when all went right.
std::string file_round_trip(const std::string& dir, int count) {
  if (::mkdir(dir.c_str(), 0755) != 0) return "mkdir " + dir + ": " + ::strerrorname_np(errno);
  for (int i = 0; i < count; ++i) {
    const std::string data = "record " + std::to_string(i) + std::string(std::size_t(i) * 97, 'x');
    if (auto e = write_file(dir + "/f" + std::to_string(i), data); !e.empty()) return e;
  }
  if (names_in(dir).size() != static_cast<std::size_t>(count)) return "listing of " + dir;
  for (int i = 0; i < count; ++i) {
    const std::string from = dir + "/f" + std::to_string(i);
    const std::string to = dir + "/g" + std::to_string(i);
    if (::rename(from.c_str(), to.c_str()) != 0) return "rename " + from;
    const std::string want = "record " + std::to_string(i) + std::string(std::size_t(i) * 97, 'x');
    if (slurp(to) != want) return "contents of " + to;
    if (::unlink(to.c_str()) != 0) return "unlink " + to;
  }
  if (!names_in(dir).empty()) return dir + " not empty";
  if (::rmdir(dir.c_str()) != 0) return "rmdir " + dir;
  return {};
}

class UringTransport : public ::testing::TestWithParam<fs::MountMode> {};

TEST_P(UringTransport, TheMirrorWorksThroughTheRingsAlsoUnderConcurrentUse) {
  ZC_REQUIRE_FUSE_MOUNT();
  ZC_REQUIRE_URING_PARAMETER();
  UringParameter on(true);
  ASSERT_TRUE(on.set());
  MountFixture f;
  fs::MountOptions options;
  options.mode = GetParam();
  options.transport = fs::MountTransport::uring;
  auto mount = fs::Mount::start(f.src, f.mnt, options);
  ASSERT_TRUE(mount) << mount.error().message();
  f.mirror.emplace(std::move(*mount));
  ASSERT_EQ(f.mirror->transport(), fs::MountTransport::uring);

  EXPECT_EQ(file_round_trip(f.mnt + "/one", 40), "");
  // A few writers at once, so requests arrive on every CPU's queue and overlap.
  constexpr int kThreads = 4;
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5 && failures[std::size_t(t)].empty(); ++round) {
        failures[std::size_t(t)] =
            file_round_trip(f.mnt + "/t" + std::to_string(t) + "r" + std::to_string(round), 30);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& failure : failures) EXPECT_EQ(failure, "");
  // What went in through the mirror is in SRC.
  EXPECT_EQ(write_file(f.mnt + "/kept", "kept through the ring"), "");
  EXPECT_EQ(slurp(f.src + "/kept"), "kept through the ring");

  const fs::MountStats stats = f.mirror->stats();
  // Most requests came through the rings; /dev/fuse carried INIT, the forgets and what came
  // before the rings were ready.
  EXPECT_GT(stats.uring_requests, 1000U);
  EXPECT_GT(stats.uring_requests * 2, stats.requests) << stats.requests;
}

INSTANTIATE_TEST_SUITE_P(Modes, UringTransport,
                         ::testing::Values(fs::MountMode::passthrough, fs::MountMode::splice,
                                           fs::MountMode::copy));

TEST(MountTransport, UringIsUsedWhenTheKernelAllowsIt) {
  ZC_REQUIRE_FUSE_MOUNT();
  ZC_REQUIRE_TOOL();
  ZC_REQUIRE_URING_PARAMETER();
  UringParameter on(true);
  ASSERT_TRUE(on.set());
  for (const char* transport : {"uring", "auto"}) {
    MountFixture f;
    const Shell mount =
        sh(zcopy_tool() + " mount " + f.src + " " + f.mnt + " --transport " + transport);
    ASSERT_EQ(mount.status, 0) << mount.output;
    EXPECT_NE(mount.output.find("transport io_uring"), std::string::npos) << mount.output;
    EXPECT_EQ(sh("echo through > " + f.mnt + "/x && cat " + f.mnt + "/x").output, "through\n");
    const Shell umount = sh(zcopy_tool() + " umount " + f.mnt);
    EXPECT_EQ(umount.status, 0) << umount.output;
  }
}

TEST(MountTransport, AutoServesThroughDevFuseAndSaysWhyNotIoUring) {
  ZC_REQUIRE_FUSE_MOUNT();
  ZC_REQUIRE_TOOL();
  ZC_REQUIRE_URING_PARAMETER();
  UringParameter off(false);
  ASSERT_TRUE(off.set());
  MountFixture f;
  const Shell mount = sh(zcopy_tool() + " mount " + f.src + " " + f.mnt + " --transport auto");
  ASSERT_EQ(mount.status, 0) << mount.output;
  EXPECT_NE(mount.output.find("transport /dev/fuse (io_uring not used: kernel parameter " +
                              std::string(kParameter) + " is off"),
            std::string::npos)
      << mount.output;
  const Shell umount = sh(zcopy_tool() + " umount " + f.mnt);
  EXPECT_EQ(umount.status, 0) << umount.output;
}

TEST(MountTransport, DevSaysNothingAboutIoUring) {
  ZC_REQUIRE_FUSE_MOUNT();
  ZC_REQUIRE_TOOL();
  MountFixture f;
  const Shell mount = sh(zcopy_tool() + " mount " + f.src + " " + f.mnt + " --transport dev");
  ASSERT_EQ(mount.status, 0) << mount.output;
  EXPECT_NE(mount.output.find("transport /dev/fuse"), std::string::npos) << mount.output;
  EXPECT_EQ(mount.output.find("io_uring"), std::string::npos) << mount.output;
  EXPECT_EQ(sh(zcopy_tool() + " umount " + f.mnt).status, 0);
}

TEST(MountTransport, UringIsRefusedInOneLineNamingTheParameterWhenItIsOff) {
  ZC_REQUIRE_TOOL();
  ZC_REQUIRE_URING_PARAMETER();
  UringParameter off(false);
  ASSERT_TRUE(off.set());
  MountFixture f;
  const Shell mount = sh(zcopy_tool() + " mount " + f.src + " " + f.mnt + " --transport uring");
  EXPECT_EQ(mount.status, 3) << mount.output;
  EXPECT_NE(mount.output.find(std::string(kParameter) + " is off (as root: echo 1 > "),
            std::string::npos)
      << mount.output;
  EXPECT_EQ(mount.output.find('\n'), mount.output.size() - 1) << mount.output;  // one line
}

TEST(MountTransport, AnUnknownTransportIsAUsageError) {
  ZC_REQUIRE_TOOL();
  const Shell mount = sh(zcopy_tool() + " mount /tmp /tmp --transport pigeon");
  EXPECT_EQ(mount.status, 2) << mount.output;
  EXPECT_NE(mount.output.find("auto, uring or dev"), std::string::npos) << mount.output;
}

TEST(MountTransport, DoctorReportsTheKernelParameterAndHowToTurnItOn) {
  ZC_REQUIRE_TOOL();
  const Shell doctor = sh(zcopy_tool() + " doctor");
  EXPECT_EQ(doctor.status, 0) << doctor.output;
  EXPECT_NE(doctor.output.find("zcopy mount transport: " + fs::describe_fuse_uring()),
            std::string::npos)
      << doctor.output;
}

TEST(MountTransport, NamesParseBack) {
  for (fs::MountTransport t :
       {fs::MountTransport::auto_select, fs::MountTransport::uring, fs::MountTransport::dev}) {
    EXPECT_EQ(fs::mount_transport_from_name(fs::to_string(t)), t);
  }
  EXPECT_EQ(fs::mount_transport_from_name("io_uring"), std::nullopt);
}

}  // namespace
}  // namespace zc::test
