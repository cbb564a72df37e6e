// A name longer than NAME_MAX (255 bytes) is refused with ENAMETOOLONG by every operation that
// takes one, through the mirror as on the source's own file system; a name of exactly 255 bytes
// works on both.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "mount_fixture.hpp"

namespace zc::test {
namespace {

std::string outcome(int rc) {
  return rc < 0 ? ::strerrorname_np(errno) : "ok";
}

// Each operation on `root` with one over-long name: "<operation> <outcome>" lines.
std::string try_every_operation(const std::string& root) {
  const std::string file = root + "/file";
  const std::string dir = root + "/dir";
  const std::string longer = root + "/" + std::string(NAME_MAX + 1, 'n');
  const std::vector<std::pair<const char*, std::function<int()>>> operations{
      {"mkdir", [&] { return ::mkdir(longer.c_str(), 0755); }},
      {"create",
       [&] {
         const int fd = ::open(longer.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
         return fd < 0 ? fd : ::close(fd);
       }},
      {"mknod", [&] { return ::mknod(longer.c_str(), S_IFIFO | 0644, 0); }},
      {"link", [&] { return ::link(file.c_str(), longer.c_str()); }},
      {"symlink", [&] { return ::symlink("file", longer.c_str()); }},
      {"rename to", [&] { return ::rename(file.c_str(), longer.c_str()); }},
      {"rename from", [&] { return ::rename(longer.c_str(), file.c_str()); }},
      {"unlink", [&] { return ::unlink(longer.c_str()); }},
      {"rmdir", [&] { return ::rmdir(longer.c_str()); }},
      {"open",
       [&] {
         const int fd = ::open(longer.c_str(), O_RDONLY | O_CLOEXEC);
         return fd < 0 ? fd : ::close(fd);
       }},
      {"truncate", [&] { return ::truncate(longer.c_str(), 0); }},
      {"chmod", [&] { return ::chmod(longer.c_str(), 0600); }},
      {"chown", [&] { return ::chown(longer.c_str(), 0, 0); }},
      {"stat",
       [&] {
         struct stat st {};
         return ::lstat(longer.c_str(), &st);
       }},
      {"rmdir in a directory", [&] { return ::rmdir((dir + longer.substr(root.size())).c_str()); }},
  };
  std::string text;
  for (const auto& [name, operation] : operations) {
    errno = 0;
    text += std::string(name) + " " + outcome(operation()) + "\n";
  }
  return text;
}

// The same operations with a name of exactly NAME_MAX bytes, which must work.
std::string use_the_longest_name(const std::string& root) {
  const std::string longest = root + "/" + std::string(NAME_MAX, 'm');
  std::string text = "mkdir " + outcome(::mkdir(longest.c_str(), 0755)) + "\n";
  text += "rename " + outcome(::rename(longest.c_str(), (root + "/short").c_str())) + "\n";
  text += "rename back " + outcome(::rename((root + "/short").c_str(), longest.c_str())) + "\n";
  text += "rmdir " + outcome(::rmdir(longest.c_str())) + "\n";
  text += "symlink " + outcome(::symlink("file", longest.c_str())) + "\n";
  text += "unlink " + outcome(::unlink(longest.c_str())) + "\n";
  return text;
}

TEST(LongNames, EveryOperationAnswersEnametoolongAsTheSourceDoes) {
  ZC_REQUIRE_FUSE_MOUNT();
  MountFixture f;
  const std::string native = f.dir() + "/native";
  ASSERT_EQ(::mkdir(native.c_str(), 0755), 0);
  for (const std::string& root : {native, f.src}) {
    ASSERT_EQ(::close(::open((root + "/file").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644)), 0);
    ASSERT_EQ(::mkdir((root + "/dir").c_str(), 0755), 0);
  }
  ASSERT_TRUE(f.mount_in_child(fs::MountMode::splice)) << f.error;

  const std::string on_native = try_every_operation(native);
  std::string expected;
  for (const char* line :
       {"mkdir", "create", "mknod", "link", "symlink", "rename to", "rename from", "unlink",
        "rmdir", "open", "truncate", "chmod", "chown", "stat", "rmdir in a directory"}) {
    expected += std::string(line) + " ENAMETOOLONG\n";
  }
  ASSERT_EQ(on_native, expected) << "the source's own file system answers differently";
  EXPECT_EQ(try_every_operation(f.mnt), expected);

  const std::string longest_native = use_the_longest_name(native);
  EXPECT_EQ(longest_native.find("E"), std::string::npos) << longest_native;
  EXPECT_EQ(use_the_longest_name(f.mnt), longest_native);
  f.unmount();
}

}  // namespace
}  // namespace zc::test
