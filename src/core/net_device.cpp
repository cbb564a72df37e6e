// Interfaces from if_nameindex, drivers from ETHTOOL_GDRVINFO, XDP features from the netdev
// generic netlink family.
#include "zcopy/core/net_device.hpp"

#include <linux/ethtool.h>
#include <linux/genetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "netlink.hpp"
#include "zcopy/core/fd.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc {
namespace {

// include/uapi/linux/netdev.h (Linux 6.3), which the build machine's headers may predate.
constexpr std::uint8_t kNetdevCmdDevGet = 1;
constexpr std::uint16_t kNetdevAttrIfindex = 1;
constexpr std::uint16_t kNetdevAttrXdpFeatures = 3;

// The driver behind `name`, asked over any socket of this namespace; empty when it does not say.
std::string driver_of(int socket, const std::string& name) {
  ethtool_drvinfo info{};
  info.cmd = ETHTOOL_GDRVINFO;
  ifreq request{};
  std::strncpy(request.ifr_name, name.c_str(), IFNAMSIZ - 1);
  request.ifr_data = reinterpret_cast<char*>(&info);
  if (::ioctl(socket, SIOCETHTOOL, &request) != 0) return {};
  return std::string(info.driver, ::strnlen(info.driver, sizeof info.driver));
}

std::optional<std::array<std::uint8_t, 6>> mac_of(int socket, const std::string& name) {
  ifreq request{};
  std::strncpy(request.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (::ioctl(socket, SIOCGIFHWADDR, &request) != 0) return std::nullopt;
  if (request.ifr_hwaddr.sa_family != ARPHRD_ETHER) return std::nullopt;
  std::array<std::uint8_t, 6> mac;
  std::memcpy(mac.data(), request.ifr_hwaddr.sa_data, mac.size());
  return mac;
}

// The generic netlink id of `family`; Errc::capability_missing when the kernel has no such
// family.
Result<std::uint16_t> family_id(netlink::Socket& socket, std::string_view family) {
  genlmsghdr header{};
  header.cmd = CTRL_CMD_GETFAMILY;
  header.version = 1;
  netlink::Message message(GENL_ID_CTRL, NLM_F_REQUEST, netlink::bytes_of(header));
  message.put_string(CTRL_ATTR_FAMILY_NAME, family);
  std::optional<std::uint16_t> id;
  auto done = socket.exchange(
      message, "CTRL_CMD_GETFAMILY", [&](std::span<const std::byte> reply) -> Result<void> {
        if (reply.size() < GENL_HDRLEN) return {};
        auto attributes = netlink::parse_attributes(reply.subspan(GENL_HDRLEN));
        if (!attributes) return std::unexpected(attributes.error());
        for (const auto& a : *attributes) {
          if (a.type == CTRL_ATTR_FAMILY_ID) id = a.u16();
        }
        return {};
      });
  if (!done && done.error().sys_errno() == ENOENT) {
    return fail(Errc::capability_missing, "generic netlink family " + std::string(family),
                "this kernel has none (the netdev family came in Linux 6.3)");
  }
  if (!done) return std::unexpected(done.error());
  if (!id) return fail(Errc::corrupt, "CTRL_CMD_GETFAMILY", "reply without a family id");
  return *id;
}

// ifindex -> xdp-features of every device, from one NETDEV_CMD_DEV_GET dump.
Result<std::map<int, std::uint64_t>> xdp_features_by_ifindex() {
  auto socket = netlink::Socket::open(NETLINK_GENERIC);
  if (!socket) return std::unexpected(socket.error());
  auto id = family_id(*socket, "netdev");
  if (!id) return std::unexpected(id.error());
  genlmsghdr header{};
  header.cmd = kNetdevCmdDevGet;
  header.version = 1;
  netlink::Message message(*id, NLM_F_REQUEST | NLM_F_DUMP, netlink::bytes_of(header));
  std::map<int, std::uint64_t> features;
  auto done = socket->exchange(
      message, "NETDEV_CMD_DEV_GET", [&](std::span<const std::byte> reply) -> Result<void> {
        if (reply.size() < GENL_HDRLEN) return {};
        auto attributes = netlink::parse_attributes(reply.subspan(GENL_HDRLEN));
        if (!attributes) return std::unexpected(attributes.error());
        std::optional<std::uint32_t> ifindex;
        std::optional<std::uint64_t> bits;
        for (const auto& a : *attributes) {
          if (a.type == kNetdevAttrIfindex) ifindex = a.u32();
          if (a.type == kNetdevAttrXdpFeatures) bits = a.u64();
        }
        if (ifindex && bits) features[static_cast<int>(*ifindex)] = *bits;
        return {};
      });
  if (!done) return std::unexpected(done.error());
  return features;
}

}  // namespace

std::string NetDevice::describe_xdp() const {
  if (!xdp_features) return "XDP features unknown";
  const std::uint64_t bits = *xdp_features;
  if ((bits & (kXdpBasic | kXdpXskZeroCopy)) == 0) return "no native XDP";
  std::string text;
  const auto add = [&](std::uint64_t bit, const char* what) {
    if ((bits & bit) == 0) return;
    if (!text.empty()) text += ", ";
    text += what;
  };
  add(kXdpBasic, "native XDP");
  add(kXdpRedirect, "redirect");
  add(kXdpXskZeroCopy, "AF_XDP zero-copy");
  if ((bits & kXdpXskZeroCopy) == 0) text += ", no AF_XDP zero-copy";
  return text;
}

Result<std::vector<NetDevice>> list_net_devices() {
  struct if_nameindex* names = ::if_nameindex();
  if (names == nullptr) return fail_errno(errno, "if_nameindex");
  std::vector<NetDevice> devices;
  for (const struct if_nameindex* n = names; n->if_index != 0 && n->if_name != nullptr; ++n) {
    NetDevice device;
    device.name = n->if_name;
    device.ifindex = static_cast<int>(n->if_index);
    devices.push_back(std::move(device));
  }
  ::if_freenameindex(names);
  std::sort(devices.begin(), devices.end(),
            [](const NetDevice& a, const NetDevice& b) { return a.ifindex < b.ifindex; });

  auto socket = sys_call("socket(AF_INET, SOCK_DGRAM)",
                         [] { return ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); });
  if (socket) {
    const Fd owner = Fd::adopt(*socket);
    for (NetDevice& d : devices) {
      d.driver = driver_of(owner.get(), d.name);
      d.mac = mac_of(owner.get(), d.name);
    }
  }
  auto features = xdp_features_by_ifindex();
  if (!features && features.error().code() != Errc::capability_missing) {
    return std::unexpected(features.error());
  }
  if (features) {
    for (NetDevice& d : devices) {
      const auto found = features->find(d.ifindex);
      if (found != features->end()) d.xdp_features = found->second;
    }
  }
  return devices;
}

Result<NetDevice> net_device(std::string_view name) {
  auto devices = list_net_devices();
  if (!devices) return std::unexpected(devices.error());
  for (NetDevice& d : *devices) {
    if (d.name == name) return std::move(d);
  }
  return fail(Errc::invalid_argument, "interface " + std::string(name),
              "no such interface in this network namespace");
}

}  // namespace zc
