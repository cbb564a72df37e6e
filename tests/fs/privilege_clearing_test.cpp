// A write or truncate by someone who is not the file's owner clears its set-uid and set-gid bits,
// through the mount as on the source's own file system (ext4 here), in every mode: the daemon
// writes and truncates as the writer and without CAP_FSETID. The mirror takes that duty from the
// kernel (FUSE_HANDLE_KILLPRIV_V2), so writes cost no security.capability question each.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>

#include "mount_fixture.hpp"
#include "support/child_process.hpp"

namespace zc::test {
namespace {

// How a non-owner changes the existing file's data.
enum class Change { write, ftruncate, open_truncating };

// Changes the existing file at `path` as uid/gid 65534: writes a few bytes (no truncation),
// truncates it through a descriptor, or opens it with O_TRUNC. The child's exit status is 0 when
// the change went through.
int change_as_nobody(const std::string& path, Change change) {
  const pid_t child = spawn([&] {
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) return 10;
    const int flags = O_WRONLY | O_CLOEXEC | (change == Change::open_truncating ? O_TRUNC : 0);
    const int fd = ::open(path.c_str(), flags);
    if (fd < 0) return 11;
    if (change == Change::write && ::pwrite(fd, "data", 4, 0) != 4) return 12;
    if (change == Change::ftruncate && ::ftruncate(fd, 1) != 0) return 12;
    return ::close(fd) == 0 ? 0 : 13;
  });
  return reap(child).value_or(-1);
}

int write_as_nobody(const std::string& path) {
  return change_as_nobody(path, Change::write);
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

TEST_P(PrivilegeClearing, ATruncateByANonOwnerClearsSetUidAndSetGidAsNatively) {
  constexpr mode_t kPrivileged = S_ISUID | S_ISGID | 0777;
  for (const Change change : {Change::ftruncate, Change::open_truncating}) {
    const std::string name = change == Change::ftruncate ? "/ftruncated" : "/opened";
    make_privileged_file(f.dir() + name, kPrivileged);
    make_privileged_file(f.src + name, kPrivileged);
  }
  fs::MountOptions options;
  options.mode = GetParam();
  options.allow_other = true;
  ASSERT_TRUE(f.mount_in_child(options)) << f.error;

  for (const Change change : {Change::ftruncate, Change::open_truncating}) {
    const std::string name = change == Change::ftruncate ? "/ftruncated" : "/opened";
    ASSERT_EQ(change_as_nobody(f.dir() + name, change), 0) << name;
    ASSERT_EQ(change_as_nobody(f.mnt + name, change), 0) << name;
    const mode_t natively = lstat_of(f.dir() + name).st_mode & 07777;
    EXPECT_EQ(lstat_of(f.src + name).st_mode & 07777, natively)
        << name << " " << std::oct << lstat_of(f.src + name).st_mode;
    EXPECT_EQ(lstat_of(f.mnt + name).st_mode & 07777, natively) << name;
  }
}

// Linux truncates on open(O_RDONLY | O_TRUNC) too, and so does the mount.
TEST_P(PrivilegeClearing, OpeningReadOnlyWithTruncationTruncatesAsNatively) {
  std::ofstream(f.dir() + "/native") << "data";
  std::ofstream(f.src + "/through") << "data";
  ASSERT_TRUE(f.mount(GetParam())) << f.error;
  for (const std::string& path : {f.dir() + "/native", f.mnt + "/through"}) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_TRUNC | O_CLOEXEC);
    ASSERT_GE(fd, 0) << path;
    ASSERT_EQ(::close(fd), 0);
  }
  EXPECT_EQ(lstat_of(f.dir() + "/native").st_size, 0);
  EXPECT_EQ(lstat_of(f.src + "/through").st_size, 0);
}

// The kernel asks for security.capability at most once per file, not before every write.
TEST_P(PrivilegeClearing, SmallWritesAskNothingAboutPrivileges) {
  constexpr int kWrites = 64;
  {
    const int fd = ::open((f.src + "/records").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, kWrites * 4096), 0);
    ASSERT_EQ(::close(fd), 0);
  }
  ASSERT_TRUE(f.mount(GetParam())) << f.error;
  const int fd = ::open((f.mnt + "/records").c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  const std::string block(4096, 'r');
  for (int i = 0; i < kWrites; ++i) {
    ASSERT_EQ(::pwrite(fd, block.data(), block.size(), off_t{i} * 4096), 4096);
  }
  ASSERT_EQ(::close(fd), 0);
  const fs::MountStats stats = f.mirror->stats();
  const auto getxattr = stats.by_operation[static_cast<std::size_t>(fs::MountOperation::getxattr)];
  EXPECT_LE(getxattr, 2U) << "GETXATTR requests for " << kWrites << " writes";
  EXPECT_EQ(lstat_of(f.src + "/records").st_size, kWrites * 4096);
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
