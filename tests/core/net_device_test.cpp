// Interfaces and their XDP features as the kernel reports them, checked inside namespaces of
// our own where every device is known: loopback, and the two ends of a veth pair.
#include "zcopy/core/net_device.hpp"

#include <gtest/gtest.h>

#include <cstdio>

#include "bench/support/veth_pair.hpp"
#include "support/capability_gate.hpp"
#include "zcopy/core/capabilities.hpp"

namespace zc {
namespace {

using bench::VethPair;

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

TEST(NetDevice, AVethEndHasTheVethDriverAndNativeXdpWithoutZeroCopy) {
  ZC_REQUIRE_ROOT("to make network namespaces");
  VethPair link;
  ASSERT_TRUE(link.ok()) << link.why();
  bench::ThreadInNamespace inside(link.netns_path(VethPair::a));
  ASSERT_TRUE(inside.ok());

  auto devices = list_net_devices();
  ASSERT_TRUE(devices) << devices.error().message();
  ASSERT_EQ(devices->size(), 2u) << "a fresh namespace holds lo and the veth end";
  EXPECT_EQ((*devices)[0].name, "lo");
  EXPECT_EQ((*devices)[0].ifindex, 1);

  auto veth = net_device(link.name(VethPair::a));
  ASSERT_TRUE(veth) << veth.error().message();
  EXPECT_EQ(veth->driver, "veth");
  ASSERT_TRUE(veth->mac.has_value());
  char mac[18];
  std::snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", (*veth->mac)[0], (*veth->mac)[1],
                (*veth->mac)[2], (*veth->mac)[3], (*veth->mac)[4], (*veth->mac)[5]);
  EXPECT_EQ(mac, link.mac(VethPair::a)) << "as ip link shows it";
  EXPECT_FALSE((*devices)[0].mac.has_value()) << "loopback has no Ethernet address";
  ASSERT_TRUE(veth->xdp_features.has_value()) << "the netdev family is there since Linux 6.3";
  EXPECT_TRUE(veth->native_xdp());
  EXPECT_FALSE(veth->xsk_zero_copy());
  EXPECT_TRUE(contains(veth->describe_xdp(), "no AF_XDP zero-copy")) << veth->describe_xdp();
}

TEST(NetDevice, AnUnknownNameIsAnInvalidArgument) {
  auto missing = net_device("zc-no-such-if");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Errc::invalid_argument);
  EXPECT_TRUE(contains(missing.error().message(), "zc-no-such-if"));
}

TEST(NetDevice, DescribesFeatureBitsInWords) {
  NetDevice d;
  EXPECT_EQ(d.describe_xdp(), "XDP features unknown");
  d.xdp_features = 0;
  EXPECT_EQ(d.describe_xdp(), "no native XDP");
  d.xdp_features = kXdpBasic | kXdpRedirect;
  EXPECT_EQ(d.describe_xdp(), "native XDP, redirect, no AF_XDP zero-copy");
  d.xdp_features = kXdpBasic | kXdpXskZeroCopy;
  EXPECT_EQ(d.describe_xdp(), "native XDP, AF_XDP zero-copy");
  EXPECT_TRUE(d.xsk_zero_copy());
}

TEST(XdpProbes, NativeXdpOnVethIsTriedOnAPairOfItsOwn) {
  ZC_REQUIRE_ROOT("to make a scratch network namespace");
  const Probe& p = probe(Capability::xdp_native_veth);
  EXPECT_TRUE(p.available) << p.detail;
  EXPECT_TRUE(contains(p.detail, "driver mode")) << p.detail;
}

TEST(XdpProbes, ZeroCopySaysWhatVethAnswered) {
  ZC_REQUIRE_ROOT("to make a scratch network namespace");
  const Probe& p = probe(Capability::af_xdp_zero_copy);
  // Whether some interface of the host advertises zero-copy varies; what veth says does not.
  EXPECT_TRUE(contains(p.detail, "veth: bind(XDP_ZEROCOPY)")) << p.detail;
  EXPECT_TRUE(contains(p.detail, "EOPNOTSUPP")) << p.detail;
  if (!p.available) {
    EXPECT_TRUE(contains(p.detail, "no interface here advertises it")) << p.detail;
  }
}

TEST(XdpProbes, TheScratchNamespaceLeavesNothingBehind) {
  ZC_REQUIRE_ROOT("to make a scratch network namespace");
  (void)probe_uncached(Capability::xdp_native_veth);
  auto devices = list_net_devices();
  ASSERT_TRUE(devices) << devices.error().message();
  for (const NetDevice& d : *devices) {
    EXPECT_FALSE(contains(d.name, "zcprobe")) << d.name << " leaked into this namespace";
  }
}

}  // namespace
}  // namespace zc
