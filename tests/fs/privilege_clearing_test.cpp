// A write by someone who is not the file's owner clears its set-uid and set-gid bits, through
// the mount as on the source's own file system (ext4 here), in every mode: the daemon writes as
// the writer and without CAP_FSETID, and in passthrough mode the kernel asks it to.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "mount_fixture.hpp"
#include "support/child_process.hpp"

namespace zc::test {
namespace {

// Writes a few bytes into the existing file at `path` (no truncation) as uid/gid 65534; the
// child's exit status is 0 when the write went through.
int write_as_nobody(const std::string& path) {
  const pid_t child = spawn([&] {
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) return 10;
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return 11;
    if (::pwrite(fd, "data", 4, 0) != 4) return 12;
    return ::close(fd) == 0 ? 0 : 13;
  });
  return reap(child).value_or(-1);
}

// Root's file at `path` with `mode` (chmod'ed, so no umask applies).
void make_privileged_file(const std::string& path, mode_t mode) {
  const int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::close(fd), 0);
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

class PrivilegeClearing : public ::testing::TestWithParam<fs::MountMode> {
 protected:
  void SetUp() override {
    ZC_REQUIRE_FUSE_MOUNT();
    ZC_REQUIRE_ROOT("to write as another user through a mount served by root");
    if (GetParam() == fs::MountMode::passthrough) {
      ZC_REQUIRE_CAPABILITY(Capability::fuse_passthrough);
    }
    ASSERT_TRUE(f.open_to_other_users());
  }
  void TearDown() override { f.unmount(); }

  MountFixture f;
};

TEST_P(PrivilegeClearing, AWriteByANonOwnerClearsSetUidAndSetGidAsNatively) {
  constexpr mode_t kPrivileged = S_ISUID | S_ISGID | 0777;
  const std::string native = f.dir() + "/native";
  make_privileged_file(native, kPrivileged);
  make_privileged_file(f.src + "/through", kPrivileged);
  fs::MountOptions options;
  options.mode = GetParam();
  options.allow_other = true;
  ASSERT_TRUE(f.mount_in_child(options)) << f.error;

  ASSERT_EQ(write_as_nobody(native), 0);
  ASSERT_EQ(write_as_nobody(f.mnt + "/through"), 0);
  const mode_t natively = lstat_of(native).st_mode & 07777;
  EXPECT_EQ(natively, 0777U) << std::oct << natively;
  EXPECT_EQ(lstat_of(f.src + "/through").st_mode & 07777, natively)
      << std::oct << lstat_of(f.src + "/through").st_mode;
  EXPECT_EQ(lstat_of(f.mnt + "/through").st_mode & 07777, natively);
}

TEST_P(PrivilegeClearing, AWriteByTheOwnerWithCapFsetidKeepsThemAsNatively) {
  constexpr mode_t kPrivileged = S_ISUID | S_ISGID | 0755;
  make_privileged_file(f.src + "/kept", kPrivileged);
  fs::MountOptions options;
  options.mode = GetParam();
  ASSERT_TRUE(f.mount_in_child(options)) << f.error;
  const int fd = ::open((f.mnt + "/kept").c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(::pwrite(fd, "data", 4, 0), 4);
  EXPECT_EQ(::close(fd), 0);
  EXPECT_EQ(lstat_of(f.src + "/kept").st_mode & 07777, kPrivileged);
}

INSTANTIATE_TEST_SUITE_P(Modes, PrivilegeClearing,
                         ::testing::Values(fs::MountMode::passthrough, fs::MountMode::splice,
                                           fs::MountMode::copy),
                         mode_name);

}  // namespace
}  // namespace zc::test
