// zcopy/core/net_device.hpp: what the kernel says about the network interfaces of this network
// namespace: name, driver, and which XDP features the driver advertises.
//
// The XDP features come from the generic netlink "netdev" family (Linux 6.3 and later), the
// driver name from ETHTOOL_GDRVINFO. Both are asked of the kernel directly; nothing is guessed
// from names.
//
//   auto device = zc::net_device("eth0");
//   if (device && device->xsk_zero_copy()) std::puts("AF_XDP zero-copy possible on eth0");
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zcopy/core/error.hpp"

namespace zc {

// The netdev family's xdp-features bits (include/uapi/linux/netdev.h).
enum XdpFeature : std::uint64_t {
  kXdpBasic = 1u << 0,        // native XDP: XDP_PASS, XDP_DROP, XDP_TX, XDP_ABORTED
  kXdpRedirect = 1u << 1,     // XDP_REDIRECT from this device's XDP program
  kXdpNdoXmit = 1u << 2,      // a redirect target
  kXdpXskZeroCopy = 1u << 3,  // AF_XDP zero-copy: the driver DMAs into the UMEM
  kXdpHwOffload = 1u << 4,    // programs run on the NIC
  kXdpRxScatterGather = 1u << 5,
  kXdpNdoXmitScatterGather = 1u << 6,
};

struct NetDevice {
  std::string name;
  int ifindex = 0;
  std::string driver;  // "veth", "virtio_net"; empty when the device does not say
  // The Ethernet address (SIOCGIFHWADDR); nullopt for devices that have none (loopback, ifb).
  std::optional<std::array<std::uint8_t, 6>> mac;
  // nullopt when the kernel has no netdev netlink family to ask (before 6.3).
  std::optional<std::uint64_t> xdp_features;

  bool native_xdp() const noexcept { return xdp_features && (*xdp_features & kXdpBasic) != 0; }
  bool xsk_zero_copy() const noexcept {
    return xdp_features && (*xdp_features & kXdpXskZeroCopy) != 0;
  }
  // "native XDP, redirect, AF_XDP zero-copy", or "no XDP", or "XDP features unknown".
  std::string describe_xdp() const;
};

// Every interface of the calling thread's network namespace, in ifindex order.
Result<std::vector<NetDevice>> list_net_devices();
// One of them; Errc::invalid_argument naming `name` when there is no such interface.
Result<NetDevice> net_device(std::string_view name);

}  // namespace zc
