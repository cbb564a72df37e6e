// Errors of the source reach the program that writes through the mirror, in every mode: a close
// that the source fails (as NFS reports a lost write at close) fails the caller's close, and a
// full source fails the write or the close with ENOSPC, never silently.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "mount_fixture.hpp"
#include "scripted_source.hpp"

namespace zc::test {
namespace {

class WriteErrors : public ::testing::TestWithParam<fs::MountMode> {
 protected:
  void SetUp() override {
    ZC_REQUIRE_FUSE_MOUNT();
    if (GetParam() == fs::MountMode::passthrough) {
      ZC_REQUIRE_CAPABILITY(Capability::fuse_passthrough);
    }
  }
};

TEST_P(WriteErrors, AFlushTheSourceFailsFailsTheCallersClose) {
  MountFixture f;
  ScriptedSource source(f.src, {scripted_file("remote", 0666)}, ENOSPC);
  ASSERT_TRUE(source.mounted()) << source.error();
  ASSERT_TRUE(f.mount_in_child(GetParam())) << f.error;
  const int fd = ::open((f.mnt + "/remote").c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  EXPECT_EQ(::write(fd, "data", 4), 4) << std::strerror(errno);
  const int flushes_before = source.log().flushes.load();
  errno = 0;
  EXPECT_EQ(::close(fd), -1);
  EXPECT_EQ(errno, ENOSPC) << std::strerror(errno);
  EXPECT_GT(source.log().flushes.load(), flushes_before);  // the error came from the source
  f.unmount();
}

TEST_P(WriteErrors, AFullSourceFailsTheWriteOrTheCloseWithEnospc) {
  ZC_REQUIRE_ROOT("to mount a small tmpfs as the source");
  MountFixture f;
  ASSERT_EQ(::mount("tmpfs", f.src.c_str(), "tmpfs", 0, "size=256k"), 0) << std::strerror(errno);
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount_source{f.src};
  ASSERT_TRUE(f.mount_in_child(GetParam())) << f.error;

  const int fd = ::open((f.mnt + "/big").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  const std::vector<char> chunk(64 * 1024, 'x');
  std::size_t written = 0;
  int first_errno = 0;
  while (written < 4 * 1024 * 1024) {  // 16 times what the source holds
    const ssize_t n = ::write(fd, chunk.data(), chunk.size());
    if (n < 0) {
      first_errno = errno;
      break;
    }
    written += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0 && first_errno == 0) first_errno = errno;
  EXPECT_EQ(first_errno, ENOSPC) << std::strerror(first_errno);
  EXPECT_LE(written, 256U * 1024U);
  struct stat st {};
  ASSERT_EQ(::stat((f.src + "/big").c_str(), &st), 0);
  EXPECT_EQ(static_cast<std::size_t>(st.st_size), written);  // no byte reported that was lost
  f.unmount();
}

INSTANTIATE_TEST_SUITE_P(Modes, WriteErrors,
                         ::testing::Values(fs::MountMode::passthrough, fs::MountMode::splice,
                                           fs::MountMode::copy),
                         mode_name);

}  // namespace
}  // namespace zc::test
