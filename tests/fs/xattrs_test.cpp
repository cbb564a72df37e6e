// Extended attributes through the mount, symlinks included: a symlink's trusted.* attribute (as
// an SELinux label would be) is read, listed, set and removed as on the source, and user.* ones
// are refused on symlinks as natively.
#include <gtest/gtest.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "mount_fixture.hpp"

namespace zc::test {
namespace {

std::string get(const std::string& path, const char* name) {
  char value[64];
  const ssize_t n = ::lgetxattr(path.c_str(), name, value, sizeof value);
  return n < 0 ? std::string("errno ") + ::strerrorname_np(errno)
               : std::string(value, static_cast<std::size_t>(n));
}

TEST(Xattrs, ASymlinksAttributesPassThroughTheMount) {
  ZC_REQUIRE_FUSE_MOUNT();
  ZC_REQUIRE_ROOT("to set trusted.* attributes");
  MountFixture f;
  const std::string link = f.src + "/link";
  ASSERT_EQ(::symlink("target", link.c_str()), 0);
  ASSERT_EQ(::lsetxattr(link.c_str(), "trusted.label", "from-source", 11, 0), 0)
      << std::strerror(errno);
  ASSERT_TRUE(f.mount_in_child(fs::MountMode::splice)) << f.error;
  const std::string through = f.mnt + "/link";

  EXPECT_EQ(get(through, "trusted.label"), "from-source");
  char names[256];
  const ssize_t listed = ::llistxattr(through.c_str(), names, sizeof names);
  EXPECT_EQ(std::string(names, static_cast<std::size_t>(std::max<ssize_t>(listed, 0))),
            std::string("trusted.label", sizeof "trusted.label"));
  EXPECT_EQ(::lsetxattr(through.c_str(), "trusted.other", "set", 3, 0), 0) << std::strerror(errno);
  EXPECT_EQ(get(link, "trusted.other"), "set");
  EXPECT_EQ(::lremovexattr(through.c_str(), "trusted.label"), 0) << std::strerror(errno);
  EXPECT_EQ(get(link, "trusted.label"), "errno ENODATA");
  // As on the source's own file system: no user.* attributes on a symlink.
  errno = 0;
  const int native = ::lsetxattr(link.c_str(), "user.x", "v", 1, 0);
  const int native_errno = errno;
  errno = 0;
  EXPECT_EQ(::lsetxattr(through.c_str(), "user.x", "v", 1, 0), native);
  EXPECT_EQ(errno, native_errno);
  // The link's target was never touched.
  EXPECT_EQ(get(f.src + "/target", "trusted.other"), "errno ENOENT");
  f.unmount();
}

}  // namespace
}  // namespace zc::test
