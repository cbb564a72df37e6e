// Creating through an --allow-other mount served by root, as another user (uid 65534): the daemon
// must never write through a symlink planted in SRC between the kernel's LOOKUP and CREATE, never
// adopt and chown a file that appeared there, and never chown anything by name: what the caller
// creates is born theirs, with the group a native creation would give it.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "mount_fixture.hpp"
#include "scripted_source.hpp"
#include "support/child_process.hpp"

namespace zc::test {
namespace {

constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;
constexpr gid_t kSharedGroup = 4242;  // a set-group-ID directory's group; nobody is not in it

// Runs `body` as uid/gid 65534, with `groups` as supplementary groups, in a child: 0 when it
// succeeded, the errno it failed with otherwise, 100 when the child could not switch users.
int as_nobody(const std::function<int()>& body, const std::vector<gid_t>& groups = {}) {
  return run_in_child([&] {
    if (::setgroups(groups.size(), groups.data()) != 0 || ::setgid(kNogroup) != 0 ||
        ::setuid(kNobody) != 0) {
      return 100;
    }
    return body();
  });
}

// open(2) with `flags`, a write and a close: 0, or the first errno.
int open_write_close(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) return errno;
  const bool wrote = ::write(fd, "nobody's data", 13) == 13;
  const int write_errno = errno;
  if (::close(fd) != 0) return errno;
  return wrote ? 0 : write_errno;
}

fs::MountOptions shared_splice_mount() {
  fs::MountOptions options;
  options.mode = fs::MountMode::splice;
  options.allow_other = true;
  return options;
}

// A mount served by root that uid 65534 may use.
class CreationForOthers : public ::testing::Test {
 protected:
  void SetUp() override {
    ZC_REQUIRE_FUSE_MOUNT();
    ZC_REQUIRE_ROOT("to create as uid 65534 through a mount served by root");
    ASSERT_TRUE(f.open_to_other_users());
  }

  MountFixture f;
};

TEST_F(CreationForOthers, NeverWritesThroughASymlinkPlantedAfterTheLookup) {
  const std::string target = f.dir() + "/roots-file";  // outside SRC, nobody may not write it
  std::ofstream(target) << "root's data";
  ASSERT_EQ(::chmod(target.c_str(), 0644), 0);
  // Another user's links, each absent when the kernel looks the name up and there when the
  // daemon creates it.
  ScriptedSource source(f.src, {scripted_symlink("victim", target, 1000, true),
                                scripted_symlink("exclusive", target, 1000, true)});
  ASSERT_TRUE(source.mounted()) << source.error();
  ASSERT_TRUE(f.mount_in_child(shared_splice_mount())) << f.error;

  EXPECT_EQ(
      as_nobody([&] { return open_write_close(f.mnt + "/victim", O_WRONLY | O_CREAT | O_TRUNC); }),
      ELOOP);
  EXPECT_EQ(as_nobody([&] {
              return open_write_close(f.mnt + "/exclusive", O_WRONLY | O_CREAT | O_EXCL);
            }),
            EEXIST);
  EXPECT_EQ(slurp(target), "root's data");
  EXPECT_EQ(lstat_of(target).st_uid, 0U);
  EXPECT_EQ(source.log().chowns.load(), 0);
  f.unmount();
}

TEST_F(CreationForOthers, OpensAFilePlantedAfterTheLookupOnlyAsTheCallerMayAndNeverChownsIt) {
  ScriptedSource source(
      f.src,
      {scripted_file("private", 0644, true), scripted_file("shared", 0666, true),
       scripted_file("exclusive", 0666, true), scripted_file("group", 0660, true, kSharedGroup),
       scripted_file("group-again", 0660, true, kSharedGroup)});
  ASSERT_TRUE(source.mounted()) << source.error();
  ASSERT_TRUE(f.mount_in_child(shared_splice_mount())) << f.error;

  // Root's file, readable by all: nobody may not open it for writing.
  EXPECT_EQ(as_nobody([&] { return open_write_close(f.mnt + "/private", O_WRONLY | O_CREAT); }),
            EACCES);
  // Writable by all: nobody may, as natively, and it stays root's.
  EXPECT_EQ(as_nobody([&] { return open_write_close(f.mnt + "/shared", O_WRONLY | O_CREAT); }), 0);
  // Writable by its group: only by a member, be it through a supplementary group.
  EXPECT_EQ(as_nobody([&] { return open_write_close(f.mnt + "/group", O_WRONLY | O_CREAT); }),
            EACCES);
  EXPECT_EQ(as_nobody([&] { return open_write_close(f.mnt + "/group-again", O_WRONLY | O_CREAT); },
                      {100, kSharedGroup}),
            0);
  // An exclusive creation of a name that exists fails, whoever may write the file.
  EXPECT_EQ(as_nobody([&] {
              return open_write_close(f.mnt + "/exclusive", O_WRONLY | O_CREAT | O_EXCL);
            }),
            EEXIST);
  EXPECT_EQ(lstat_of(f.src + "/private").st_uid, 0U);
  EXPECT_EQ(lstat_of(f.src + "/shared").st_uid, 0U);
  EXPECT_EQ(lstat_of(f.src + "/group-again").st_uid, 0U);
  EXPECT_EQ(source.log().chowns.load(), 0);
  f.unmount();
}

TEST_F(CreationForOthers, NewEntriesAreBornTheCallersWithoutAChown) {
  ScriptedSource source(f.src, {});
  ASSERT_TRUE(source.mounted()) << source.error();
  ASSERT_TRUE(f.mount_in_child(shared_splice_mount())) << f.error;

  EXPECT_EQ(as_nobody([&] { return open_write_close(f.mnt + "/file", O_WRONLY | O_CREAT); }), 0);
  EXPECT_EQ(as_nobody([&] { return ::mkdir((f.mnt + "/dir").c_str(), 0755) == 0 ? 0 : errno; }), 0);
  EXPECT_EQ(as_nobody([&] { return ::mkfifo((f.mnt + "/fifo").c_str(), 0644) == 0 ? 0 : errno; }),
            0);
  EXPECT_EQ(
      as_nobody([&] { return ::symlink("file", (f.mnt + "/link").c_str()) == 0 ? 0 : errno; }), 0);
  for (const char* name : {"file", "dir", "fifo", "link"}) {
    const struct stat st = lstat_of(f.src + "/" + name);
    EXPECT_EQ(st.st_uid, kNobody) << name;
    EXPECT_EQ(st.st_gid, kNogroup) << name;
  }
  // The source was asked to create them for nobody, never to hand them over afterwards.
  EXPECT_EQ(source.log().chowns.load(), 0);
  f.unmount();
}

// Owner, group and mode of each entry the four creations made under `root`, after running them
// as nobody in `root` and in its set-group-ID subdirectory `shared`.
std::string create_all_as_nobody(const std::string& root) {
  std::string text;
  for (const std::string& dir : {root, root + "/shared"}) {
    const int status = as_nobody([&] {
      if (const int rc = open_write_close(dir + "/file", O_WRONLY | O_CREAT); rc != 0) return rc;
      if (::mkdir((dir + "/dir").c_str(), 0755) != 0) return errno;
      if (::mkfifo((dir + "/fifo").c_str(), 0644) != 0) return errno;
      if (::symlink("file", (dir + "/link").c_str()) != 0) return errno;
      return 0;
    });
    text += dir.substr(root.size()) + " status " + std::to_string(status) + "\n";
    for (const char* name : {"file", "dir", "fifo", "link"}) {
      const struct stat st = lstat_of(dir + "/" + name);
      text += std::string(name) + " uid " + std::to_string(st.st_uid) + " gid " +
              std::to_string(st.st_gid) + " mode " + std::to_string(st.st_mode) + "\n";
    }
  }
  return text;
}

TEST_F(CreationForOthers, NewEntriesOnARealSourceGetTheOwnerAndGroupANativeCreationGives) {
  const std::string native = f.dir() + "/native";
  ASSERT_EQ(::mkdir(native.c_str(), 0755), 0);
  for (const std::string& root : {native, f.src}) {
    const std::string shared = root + "/shared";
    ASSERT_EQ(::chmod(root.c_str(), 0777), 0);
    ASSERT_EQ(::mkdir(shared.c_str(), 0755), 0);
    ASSERT_EQ(::chown(shared.c_str(), 0, kSharedGroup), 0);
    ASSERT_EQ(::chmod(shared.c_str(), 02777), 0);
  }
  ASSERT_TRUE(f.mount_in_child(shared_splice_mount())) << f.error;
  const std::string on_native = create_all_as_nobody(native);
  EXPECT_NE(on_native.find("/shared status 0\nfile uid 65534 gid 4242"), std::string::npos)
      << on_native;
  EXPECT_EQ(create_all_as_nobody(f.mnt), on_native);
  f.unmount();
}

}  // namespace
}  // namespace zc::test
