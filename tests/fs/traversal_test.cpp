// Nothing outside SRC is reachable through the daemon: names are single components, `..` at the
// root is the root, symlinks are links, and a directory swapped for a symlink behind the
// daemon's back does not redirect it.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fs/mirror.hpp"
#include "mount_fixture.hpp"
#include "zcopy/core/fd.hpp"

namespace zc::test {
namespace {

TEST(Traversal, NamesAreSingleComponents) {
  EXPECT_EQ(fs::classify_name("file"), fs::NameKind::plain);
  EXPECT_EQ(fs::classify_name("..."), fs::NameKind::plain);
  EXPECT_EQ(fs::classify_name("."), fs::NameKind::dot);
  EXPECT_EQ(fs::classify_name(".."), fs::NameKind::dot_dot);
  EXPECT_EQ(fs::classify_name("../etc"), fs::NameKind::invalid);
  EXPECT_EQ(fs::classify_name("a/b"), fs::NameKind::invalid);
  EXPECT_EQ(fs::classify_name(""), fs::NameKind::invalid);
  EXPECT_EQ(fs::classify_name(std::string(NAME_MAX, 'a')), fs::NameKind::plain);
  EXPECT_EQ(fs::classify_name(std::string(NAME_MAX + 1, 'a')), fs::NameKind::too_long);
}

TEST(Traversal, DotDotAtTheRootIsTheRoot) {
  TempDir dir;
  const std::string src = dir.path() + "/src";
  ASSERT_EQ(::mkdir(src.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((src + "/sub").c_str(), 0755), 0);
  auto root = Fd::open(src, O_PATH | O_DIRECTORY);
  ASSERT_TRUE(root);
  struct stat root_stat = lstat_of(src);
  fs::Mirror mirror(std::move(*root), root_stat, fs::MountMode::copy, 1, 1);

  auto up = fs::lookup_entry(mirror, mirror.inodes().root(), "..");
  ASSERT_TRUE(up) << up.error().message();
  EXPECT_EQ(up->ino, FUSE_ROOT_ID);
  EXPECT_EQ(up->attr.st_ino, root_stat.st_ino);

  auto sub = fs::lookup_entry(mirror, mirror.inodes().root(), "sub");
  ASSERT_TRUE(sub);
  auto back = fs::lookup_entry(mirror, mirror.inodes().get(sub->ino), "..");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->ino, FUSE_ROOT_ID);  // the parent of sub is the root again, not a new inode

  auto escape = fs::lookup_entry(mirror, mirror.inodes().root(), "../..");
  ASSERT_FALSE(escape);
  EXPECT_EQ(escape.error().sys_errno(), EINVAL);
}

class TraversalOnMount : public ::testing::Test {
 protected:
  void SetUp() override {
    ZC_REQUIRE_FUSE_MOUNT();
    outside_ = f_.dir() + "/outside";
    ASSERT_EQ(::mkdir(outside_.c_str(), 0755), 0);
    ASSERT_EQ(::close(::open((outside_ + "/secret").c_str(), O_CREAT | O_WRONLY, 0600)), 0);
    struct timespec old[2] = {{1000, 0}, {1000, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, (outside_ + "/secret").c_str(), old, 0), 0);
    ASSERT_EQ(::symlink((outside_ + "/secret").c_str(), (f_.src + "/abs").c_str()), 0);
    ASSERT_EQ(::symlink("../outside/secret", (f_.src + "/rel").c_str()), 0);
    ASSERT_TRUE(f_.mount_in_child(fs::MountMode::splice)) << f_.error;
  }

  MountFixture f_;
  std::string outside_;
};

TEST_F(TraversalOnMount, SymlinksAreReturnedAsLinks) {
  for (const char* name : {"abs", "rel"}) {
    const std::string link = f_.mnt + "/" + name;
    EXPECT_TRUE(S_ISLNK(lstat_of(link).st_mode));
    EXPECT_EQ(std::filesystem::read_symlink(link),
              std::filesystem::read_symlink(f_.src + "/" + name));
    // Operations that do not follow links change the link, never what it points at.
    struct timespec t[2] = {{2000, 0}, {2000, 0}};
    EXPECT_EQ(::utimensat(AT_FDCWD, link.c_str(), t, AT_SYMLINK_NOFOLLOW), 0) << name;
    EXPECT_EQ(::lchown(link.c_str(), 1234, 1234), 0) << name;
    EXPECT_NE(::lsetxattr(link.c_str(), "user.x", "v", 1, 0), 0);
    EXPECT_EQ(lstat_of(f_.src + "/" + name).st_mtim.tv_sec, 2000);
    EXPECT_EQ(lstat_of(f_.src + "/" + name).st_uid, 1234U);
  }
  EXPECT_EQ(lstat_of(outside_ + "/secret").st_mtim.tv_sec, 1000);
  EXPECT_EQ(lstat_of(outside_ + "/secret").st_uid, 0U);
  EXPECT_EQ(::rename((f_.mnt + "/abs").c_str(), (f_.mnt + "/abs2").c_str()), 0);
  EXPECT_EQ(::unlink((f_.mnt + "/abs2").c_str()), 0);
  EXPECT_EQ(::unlink((f_.mnt + "/rel").c_str()), 0);
  EXPECT_TRUE(std::filesystem::exists(outside_ + "/secret"));
  EXPECT_EQ(lstat_of(outside_ + "/secret").st_mtim.tv_sec, 1000);
}

TEST_F(TraversalOnMount, ADirectorySwappedForASymlinkDoesNotRedirectTheDaemon) {
  ASSERT_EQ(::mkdir((f_.mnt + "/d").c_str(), 0755), 0);
  const int dir = ::open((f_.mnt + "/d").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dir, 0);
  // Behind the daemon's back, d becomes a symlink to a directory outside SRC.
  ASSERT_EQ(::rename((f_.src + "/d").c_str(), (f_.src + "/d.old").c_str()), 0);
  ASSERT_EQ(::symlink(outside_.c_str(), (f_.src + "/d").c_str()), 0);
  // The kernel asks the daemon to create under the inode it knows; the daemon holds that inode,
  // not the name, so the file lands in the moved directory and never outside.
  const int fd = ::openat(dir, "planted", O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ::close(fd);
  ASSERT_EQ(::mkdirat(dir, "subdir", 0755), 0);
  ::close(dir);
  EXPECT_FALSE(std::filesystem::exists(outside_ + "/planted"));
  EXPECT_FALSE(std::filesystem::exists(outside_ + "/subdir"));
  EXPECT_TRUE(std::filesystem::exists(f_.src + "/d.old/planted"));
  EXPECT_TRUE(std::filesystem::exists(f_.src + "/d.old/subdir"));
}

TEST_F(TraversalOnMount, ADirectoryMovedOutOfTheSourceIsNoLongerReachable) {
  ASSERT_EQ(::mkdir((f_.src + "/e").c_str(), 0755), 0);
  std::ofstream(f_.src + "/e/inside") << "was inside";
  // A directory held open through the mount, as a shell's working directory is.
  const int dir = ::open((f_.mnt + "/e").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dir, 0) << std::strerror(errno);
  // Behind the mount's back, e moves out of SRC.
  ASSERT_EQ(::rename((f_.src + "/e").c_str(), (outside_ + "/e").c_str()), 0);
  std::ofstream(outside_ + "/e/later") << "never inside";
  // Through the mount it is gone: neither its names nor a new listing of it reach outside.
  EXPECT_LT(::openat(dir, "later", O_RDONLY | O_CLOEXEC), 0);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_LT(::openat(dir, "inside", O_RDONLY | O_CLOEXEC), 0);
  // Opening it asks the daemon nothing (directories are listed without OPENDIR); a listing of it
  // ends at once (glibc reads the daemon's ENOENT as the end), though "inside" and "later" exist.
  const int again = ::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (again >= 0) {
    DIR* listing = ::fdopendir(again);
    ASSERT_NE(listing, nullptr);
    EXPECT_EQ(::readdir(listing), nullptr);
    ::closedir(listing);
  }
  EXPECT_LT(::mkdirat(dir, "made", 0755), 0);
  ::close(dir);
  EXPECT_FALSE(std::filesystem::exists(outside_ + "/e/made"));
  // Moved back, it is reachable again.
  ASSERT_EQ(::rename((outside_ + "/e").c_str(), (f_.src + "/e2").c_str()), 0);
  EXPECT_EQ(slurp(f_.mnt + "/e2/inside"), "was inside");
}

TEST_F(TraversalOnMount, NothingAboveTheRootIsVisible) {
  // The mount's root lists SRC and only SRC.
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(f_.mnt)) {
    names.push_back(e.path().filename());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"abs", "rel"}));
  EXPECT_EQ(lstat_of(f_.mnt).st_ino, lstat_of(f_.src).st_ino);
  EXPECT_EQ(::access((f_.mnt + "/../outside/secret").c_str(), F_OK), 0);  // the caller's own walk
  EXPECT_NE(::access((f_.mnt + "/outside").c_str(), F_OK), 0);
}

}  // namespace
}  // namespace zc::test
