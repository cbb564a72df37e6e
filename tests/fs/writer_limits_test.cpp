// Writing through the mount, the writer's limits hold as they do on the source: an unprivileged
// writer cannot fill ext4's blocks reserved for root, RLIMIT_FSIZE stops the writer at its
// limit, and the daemon's worker threads hold only the capabilities serving needs (no
// CAP_SYS_RESOURCE to lend anyone).
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fs/worker_privileges.hpp"
#include "mount_fixture.hpp"
#include "support/child_process.hpp"

namespace zc::test {
namespace {

struct Written {
  std::uint64_t bytes = 0;
  int error = 0;  // what stopped the writer
};

// Writes 64 KiB chunks to a new file at `path` until a write fails or `most` bytes went, in a
// child that runs as uid/gid 65534 (`as_nobody`) and with RLIMIT_FSIZE `file_limit` (if set).
Written write_until_full(const std::string& path, std::uint64_t most, bool as_nobody,
                         rlim_t file_limit = RLIM_INFINITY) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) return {0, errno};
  const pid_t child = spawn([&] {
    ::close(ends[0]);
    if (as_nobody &&
        (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0)) {
      return 10;
    }
    ::signal(SIGXFSZ, SIG_IGN);
    const struct rlimit limit { file_limit, file_limit };
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) return 11;
    Written w;
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      w.error = errno;
    } else {
      const std::vector<char> chunk(64 * 1024, 'r');
      while (w.bytes < most) {
        const ssize_t n = ::write(fd, chunk.data(), chunk.size());
        if (n < 0) {
          w.error = errno;
          break;
        }
        w.bytes += static_cast<std::uint64_t>(n);
      }
      if (::fsync(fd) != 0 && w.error == 0) w.error = errno;
      if (::close(fd) != 0 && w.error == 0) w.error = errno;
    }
    [[maybe_unused]] const ssize_t n = ::write(ends[1], &w, sizeof w);
    return 0;
  });
  ::close(ends[1]);
  Written w{0, ECHILD};
  if (::read(ends[0], &w, sizeof w) != sizeof w) w = {0, ECHILD};
  ::close(ends[0]);
  (void)reap(child);
  return w;
}

fs::MountOptions shared(fs::MountMode mode) {
  fs::MountOptions options;
  options.mode = mode;
  options.allow_other = true;
  return options;
}

class WriterLimits : public ::testing::TestWithParam<fs::MountMode> {
 protected:
  void SetUp() override {
    ZC_REQUIRE_FUSE_MOUNT();
    ZC_REQUIRE_ROOT("to write as another user through a mount served by root");
    if (GetParam() == fs::MountMode::passthrough) {
      ZC_REQUIRE_CAPABILITY(Capability::fuse_passthrough);
    }
    ASSERT_TRUE(f.open_to_other_users());
  }
  void TearDown() override {
    f.unmount();
    if (source_mounted_) ::umount2(f.src.c_str(), MNT_DETACH);
  }

  MountFixture f;
  bool source_mounted_ = false;
};

TEST_P(WriterLimits, AnUnprivilegedWriterCannotFillTheBlocksExt4ReservesForRoot) {
  ZC_REQUIRE_PROGRAM("mkfs.ext4");
  const std::string image = f.dir() + "/ext4.img";
  const Shell made = sh("truncate -s 24M " + image + " && mkfs.ext4 -q -F -m 50 " + image +
                        " && mount -o loop " + image + " " + f.src + " && chmod 1777 " + f.src);
  ASSERT_EQ(made.status, 0) << made.output;
  source_mounted_ = true;

  const Written native = write_until_full(f.src + "/native", 64 << 20, true);
  EXPECT_EQ(native.error, ENOSPC) << ::strerrorname_np(native.error);
  ASSERT_EQ(::unlink((f.src + "/native").c_str()), 0);
  ::sync();
  ASSERT_TRUE(f.mount_in_child(shared(GetParam()))) << f.error;
  const Written through = write_until_full(f.mnt + "/through", 64 << 20, true);
  EXPECT_EQ(through.error, ENOSPC) << ::strerrorname_np(through.error);
  // Half the file system is reserved: a writer using it would get about twice as far.
  EXPECT_LE(through.bytes, native.bytes + (1 << 20))
      << "natively " << native.bytes << " bytes, through the mount " << through.bytes;
}

TEST_P(WriterLimits, TheWritersFileSizeLimitStopsItAsNatively) {
  constexpr rlim_t kLimit = 1 << 20;
  const std::string native_dir = f.dir() + "/native";
  ASSERT_EQ(::mkdir(native_dir.c_str(), 0755), 0);
  for (const std::string& dir : {native_dir, f.src}) ASSERT_EQ(::chmod(dir.c_str(), 01777), 0);
  const Written native = write_until_full(native_dir + "/file", 4 << 20, true, kLimit);
  ASSERT_TRUE(f.mount_in_child(shared(GetParam()))) << f.error;
  const Written through = write_until_full(f.mnt + "/through", 4 << 20, true, kLimit);
  EXPECT_EQ(native.error, EFBIG) << ::strerrorname_np(native.error);
  EXPECT_EQ(through.error, EFBIG) << ::strerrorname_np(through.error);
  EXPECT_EQ(through.bytes, native.bytes);
}

INSTANTIATE_TEST_SUITE_P(Modes, WriterLimits,
                         ::testing::Values(fs::MountMode::passthrough, fs::MountMode::splice,
                                           fs::MountMode::copy),
                         mode_name);

// CapEff of every FUSE worker thread of `pid` (named kWorkerThreadName; other threads, such as a
// sanitizer's own, are not the mirror's), as hex masks.
std::vector<std::uint64_t> worker_capabilities(pid_t pid) {
  std::vector<std::uint64_t> masks;
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& task : std::filesystem::directory_iterator(tasks)) {
    if (task.path().filename() == std::to_string(pid)) continue;
    if (slurp(task.path().string() + "/comm") != std::string(fs::kWorkerThreadName) + "\n")
      continue;
    const std::string status = slurp(task.path().string() + "/status");
    const auto at = status.find("CapEff:\t");
    if (at != std::string::npos)
      masks.push_back(std::stoull(status.substr(at + 8, 16), nullptr, 16));
  }
  return masks;
}

TEST(WorkerPrivileges, WorkerThreadsHoldOnlyWhatServingNeeds) {
  ZC_REQUIRE_FUSE_MOUNT();
  ZC_REQUIRE_ROOT("to have capabilities to drop");
  MountFixture f;
  ASSERT_TRUE(f.mount_in_child(fs::MountMode::splice)) << f.error;
  std::ofstream(f.mnt + "/touch") << "wakes a worker";
  const std::vector<std::uint64_t> masks = worker_capabilities(f.daemon_pid());
  ASSERT_FALSE(masks.empty());
  for (const std::uint64_t mask : masks) {
    EXPECT_EQ(mask & ~fs::worker_capabilities(), 0U) << std::hex << mask;
    EXPECT_EQ(mask & (std::uint64_t{1} << CAP_SYS_RESOURCE), 0U) << std::hex << mask;
    EXPECT_NE(mask & (std::uint64_t{1} << CAP_SYS_ADMIN), 0U) << std::hex << mask;
  }
  f.unmount();
}

}  // namespace
}  // namespace zc::test
