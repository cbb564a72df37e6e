// A listing through the mount is never silently shorter than the directory: an entry gone since
// the source listed it is left out, and one whose lookup fails for another reason is listed, as
// natively, and whoever stats it gets the error.
#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "mount_fixture.hpp"
#include "scripted_source.hpp"

namespace zc::test {
namespace {

TEST(DirectoryListing, AnEntryGoneSinceTheSourceListedItIsLeftOut) {
  ZC_REQUIRE_FUSE_MOUNT();
  MountFixture f;
  ScriptedSource source(f.src, {scripted_file("a", 0644), scripted_unreachable("gone", ENOENT),
                                scripted_file("c", 0644)});
  ASSERT_TRUE(source.mounted()) << source.error();
  ASSERT_TRUE(f.mount_in_child(fs::MountMode::splice)) << f.error;
  const Shell listing = sh("ls " + f.mnt);
  EXPECT_EQ(listing.status, 0) << listing.output;
  EXPECT_EQ(listing.output, "a\nc\n");
  f.unmount();
}

TEST(DirectoryListing, AnEntryWhoseLookupFailsIsListedAndItsStatReportsTheError) {
  ZC_REQUIRE_FUSE_MOUNT();
  MountFixture f;
  ScriptedSource source(f.src, {scripted_file("a", 0644), scripted_unreachable("broken", EIO),
                                scripted_file("c", 0644)});
  ASSERT_TRUE(source.mounted()) << source.error();
  ASSERT_TRUE(f.mount_in_child(fs::MountMode::splice)) << f.error;
  const Shell listing = sh("ls " + f.mnt);
  EXPECT_EQ(listing.status, 0) << listing.output;
  EXPECT_EQ(listing.output, "a\nbroken\nc\n");
  const Shell details = sh("ls -l " + f.mnt);
  EXPECT_NE(details.status, 0) << details.output;
  EXPECT_NE(details.output.find("broken': Input/output error"), std::string::npos)
      << details.output;
  f.unmount();
}

}  // namespace
}  // namespace zc::test
