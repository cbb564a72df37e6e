// Which inode the mount shows for what: two file systems mounted inside SRC never show one
// (st_dev, st_ino) for two files, an inode number the source reuses names the new file and not
// the old one, and SRC bind-mounted inside itself is a directory of its own.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "mount_fixture.hpp"
#include "scripted_source.hpp"

namespace zc::test {
namespace {

// Mounts what `mount` says at `path` and unmounts it when the test ends.
class ScopedMount {
 public:
  ScopedMount(const std::string& source, const std::string& path, const char* type,
              unsigned long flags)
      : path_(path) {
    mounted_ = ::mount(source.c_str(), path.c_str(), type, flags, nullptr) == 0;
    if (!mounted_) error_ = std::strerror(errno);
  }
  ~ScopedMount() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  ScopedMount(const ScopedMount&) = delete;
  ScopedMount& operator=(const ScopedMount&) = delete;
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

 private:
  std::string path_;
  bool mounted_ = false;
  std::string error_;
};

class InodeIdentity : public ::testing::Test {
 protected:
  void SetUp() override {
    ZC_REQUIRE_FUSE_MOUNT();
    ZC_REQUIRE_ROOT("to mount file systems inside the source");
  }
  MountFixture f;
};

TEST_F(InodeIdentity, FilesOnTwoFileSystemsInsideTheSourceNeverShareAnInodeNumber) {
  ASSERT_EQ(::mkdir((f.src + "/one").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((f.src + "/two").c_str(), 0755), 0);
  ScopedMount one("tmpfs", f.src + "/one", "tmpfs", 0);
  ScopedMount two("tmpfs", f.src + "/two", "tmpfs", 0);
  ASSERT_TRUE(one.mounted() && two.mounted()) << one.error() << two.error();
  std::ofstream(f.src + "/one/file") << "first";
  std::ofstream(f.src + "/two/file") << "second";
  // Fresh tmpfs instances number their first files alike: only st_dev tells them apart.
  ASSERT_EQ(lstat_of(f.src + "/one/file").st_ino, lstat_of(f.src + "/two/file").st_ino);
  ASSERT_TRUE(f.mount_in_child(fs::MountMode::splice)) << f.error;

  const struct stat a = lstat_of(f.mnt + "/one/file");
  const struct stat b = lstat_of(f.mnt + "/two/file");
  EXPECT_EQ(a.st_dev, b.st_dev);  // one mount, one device
  EXPECT_NE(a.st_ino, b.st_ino);
  EXPECT_NE(lstat_of(f.mnt + "/one").st_ino, lstat_of(f.mnt + "/two").st_ino);
  // SRC's own file system keeps its numbers.
  EXPECT_EQ(lstat_of(f.mnt).st_ino, lstat_of(f.src).st_ino);
  // tar stores both as files, not the second as a hard link to the first.
  const Shell listing = sh("tar -C " + f.mnt + " -cvf /dev/null one two 2>&1");
  EXPECT_EQ(listing.status, 0) << listing.output;
  EXPECT_EQ(listing.output.find("link to"), std::string::npos) << listing.output;
  const Shell archive = sh("tar -C " + f.mnt + " -cf - one two | tar -C " + f.dir() +
                           " -xf - && cat " + f.dir() + "/one/file " + f.dir() + "/two/file");
  EXPECT_EQ(archive.output, "firstsecond");
  // A directory listing shows the numbers stat shows.
  const Shell numbers = sh("ls -i " + f.mnt + "/two | cut -d' ' -f1");
  EXPECT_EQ(numbers.output, std::to_string(b.st_ino) + "\n");
  f.unmount();
}

TEST_F(InodeIdentity, AnInodeNumberTheSourceReusesNamesTheNewFile) {
  // "new" appears with the number of "old" once "old" is unlinked, as NFS or a FUSE server may
  // hand out a freed number again; the old inode answers ESTALE from then on.
  ScriptedSource source(
      f.src, {scripted_numbered_file("old", 100), scripted_numbered_file("new", 100, "old")});
  ASSERT_TRUE(source.mounted()) << source.error();
  fs::MountOptions options;
  options.mode = fs::MountMode::splice;
  options.cache_seconds = 0;
  ASSERT_TRUE(f.mount_in_child(options)) << f.error;

  // The kernel keeps the old inode while a file of it is open.
  const int old_fd = ::open((f.mnt + "/old").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(old_fd, 0) << std::strerror(errno);
  // Removed on the source itself, behind the mount's back.
  ASSERT_EQ(::unlink((f.src + "/old").c_str()), 0) << std::strerror(errno);
  const int fd = ::open((f.mnt + "/new").c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0) << std::strerror(errno);
  if (fd >= 0) {
    struct stat st {};
    EXPECT_EQ(::fstat(fd, &st), 0) << std::strerror(errno);
    ::close(fd);
  }
  struct stat st {};
  EXPECT_EQ(::stat((f.mnt + "/new").c_str(), &st), 0) << std::strerror(errno);
  ::close(old_fd);
  f.unmount();
}

TEST_F(InodeIdentity, ABindMountInsideTheSourceListedBeforeUseIsServedThroughItsOwnName) {
  // A directory of SRC's own file system, outside SRC, bound inside it: its file handle would
  // reopen it where it lies, outside SRC, which the mirror refuses.
  const std::string outside = f.dir() + "/outside";
  ASSERT_EQ(::mkdir(outside.c_str(), 0755), 0);
  std::ofstream(outside + "/file") << "data";
  ASSERT_EQ(::mkdir((f.src + "/again").c_str(), 0755), 0);
  ScopedMount bind(outside, f.src + "/again", nullptr, MS_BIND);
  ASSERT_TRUE(bind.mounted()) << bind.error();
  ASSERT_TRUE(f.mount_in_child(fs::MountMode::splice)) << f.error;
  // The listing (READDIRPLUS) is what makes the kernel know `again` first.
  const Shell top = sh("ls -f " + f.mnt);
  ASSERT_EQ(top.status, 0) << top.output;
  EXPECT_EQ(slurp(f.mnt + "/again/file"), "data");
  const Shell listing = sh("ls " + f.mnt + "/again");
  EXPECT_EQ(listing.status, 0) << listing.output;
  EXPECT_EQ(listing.output, "file\n");
  f.unmount();
}

TEST_F(InodeIdentity, SourceBindMountedInsideItselfIsADirectoryOfItsOwn) {
  std::ofstream(f.src + "/file") << "data";
  ASSERT_EQ(::mkdir((f.src + "/again").c_str(), 0755), 0);
  ScopedMount bind(f.src, f.src + "/again", nullptr, MS_BIND);
  ASSERT_TRUE(bind.mounted()) << bind.error();
  ASSERT_TRUE(f.mount_in_child(fs::MountMode::splice)) << f.error;
  struct stat st {};
  EXPECT_EQ(::stat((f.mnt + "/again").c_str(), &st), 0) << std::strerror(errno);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(slurp(f.mnt + "/again/file"), "data");
  const Shell listing = sh("ls " + f.mnt + "/again");
  EXPECT_EQ(listing.status, 0) << listing.output;
  EXPECT_EQ(listing.output, "again\nfile\n");
  // `..` from inside the root still leads to the root.
  EXPECT_EQ(lstat_of(f.mnt + "/again/..").st_ino, lstat_of(f.mnt).st_ino);
  f.unmount();
}

}  // namespace
}  // namespace zc::test
