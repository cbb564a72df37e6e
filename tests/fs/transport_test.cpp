// `zcopy mount --transport`: this build serves through /dev/fuse, `auto` says why io_uring is
// not used, `uring` is refused as a missing capability with the same reason, and `zcopy
// doctor` reports the kernel's enable_uring parameter and how to turn it on.
#include "zcopy/fs/transport.hpp"

#include <gtest/gtest.h>

#include <string>

#include "mount_fixture.hpp"

namespace zc::test {
namespace {

TEST(MountTransport, AutoServesThroughDevFuseAndSaysWhyNotIoUring) {
  ZC_REQUIRE_FUSE_MOUNT();
  ZC_REQUIRE_TOOL();
  MountFixture f;
  const Shell mount = sh(zcopy_tool() + " mount " + f.src + " " + f.mnt + " --transport auto");
  ASSERT_EQ(mount.status, 0) << mount.output;
  EXPECT_NE(mount.output.find("transport /dev/fuse (io_uring not used: libfuse 3.14"),
            std::string::npos)
      << mount.output;
  EXPECT_NE(mount.output.find("enable_uring"), std::string::npos) << mount.output;
  const Shell umount = sh(zcopy_tool() + " umount " + f.mnt);
  EXPECT_EQ(umount.status, 0) << umount.output;
}

TEST(MountTransport, DevSaysNothingAboutIoUring) {
  ZC_REQUIRE_FUSE_MOUNT();
  ZC_REQUIRE_TOOL();
  MountFixture f;
  const Shell mount = sh(zcopy_tool() + " mount " + f.src + " " + f.mnt + " --transport dev");
  ASSERT_EQ(mount.status, 0) << mount.output;
  EXPECT_NE(mount.output.find("transport /dev/fuse"), std::string::npos) << mount.output;
  EXPECT_EQ(mount.output.find("io_uring"), std::string::npos) << mount.output;
  EXPECT_EQ(sh(zcopy_tool() + " umount " + f.mnt).status, 0);
}

TEST(MountTransport, UringIsRefusedAsAMissingCapabilityWithTheReason) {
  ZC_REQUIRE_TOOL();
  MountFixture f;
  const Shell mount = sh(zcopy_tool() + " mount " + f.src + " " + f.mnt + " --transport uring");
  EXPECT_EQ(mount.status, 3) << mount.output;
  EXPECT_NE(mount.output.find("no io_uring transport"), std::string::npos) << mount.output;
  EXPECT_EQ(mount.output.find('\n'), mount.output.size() - 1) << mount.output;  // one line
}

TEST(MountTransport, AnUnknownTransportIsAUsageError) {
  ZC_REQUIRE_TOOL();
  const Shell mount = sh(zcopy_tool() + " mount /tmp /tmp --transport pigeon");
  EXPECT_EQ(mount.status, 2) << mount.output;
  EXPECT_NE(mount.output.find("auto, uring or dev"), std::string::npos) << mount.output;
}

TEST(MountTransport, DoctorReportsTheKernelParameterAndHowToTurnItOn) {
  ZC_REQUIRE_TOOL();
  const Shell doctor = sh(zcopy_tool() + " doctor");
  EXPECT_EQ(doctor.status, 0) << doctor.output;
  EXPECT_NE(doctor.output.find("zcopy mount transport: " + fs::describe_fuse_uring()),
            std::string::npos)
      << doctor.output;
}

TEST(MountTransport, NamesParseBack) {
  for (fs::MountTransport t :
       {fs::MountTransport::auto_select, fs::MountTransport::uring, fs::MountTransport::dev}) {
    EXPECT_EQ(fs::mount_transport_from_name(fs::to_string(t)), t);
  }
  EXPECT_EQ(fs::mount_transport_from_name("io_uring"), std::nullopt);
}

}  // namespace
}  // namespace zc::test
