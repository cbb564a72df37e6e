// Probes of XDP: AF_XDP sockets, native (driver-mode) XDP on veth, and AF_XDP zero-copy.
//
// Native XDP and the zero-copy bind are tried for real on a veth pair made in a scratch network
// namespace that only a short-lived thread lives in, so nothing on the host is touched and the
// namespace, the pair and the program vanish with the thread's descriptors. Everything goes
// through raw system calls: core links no libbpf.
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "netlink.hpp"
#include "probe_support.hpp"
#include "zcopy/core/net_device.hpp"
#include "zcopy/core/syscall.hpp"

#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef SOL_XDP
#define SOL_XDP 283
#endif

namespace zc::probes {
namespace {

constexpr const char* kProbeLink = "zcprobe0";
constexpr const char* kProbePeer = "zcprobe1";

// What the scratch veth pair showed.
struct VethFindings {
  std::string setup_failure;  // non-empty: the pair could not be made, and why
  bool native_xdp = false;
  std::string native_detail;  // why not, when not
  int zero_copy_errno = 0;    // what bind(XDP_ZEROCOPY) answered (0: it bound)
  std::string zero_copy_detail;
  bool copy_bind = false;  // bind(XDP_COPY) after the refusal
};

long bpf(int command, bpf_attr& attr) {
  return ::syscall(__NR_bpf, command, &attr, sizeof attr);
}

Result<void> create_veth_pair(netlink::Socket& rtnl) {
  ifinfomsg info{};
  info.ifi_family = AF_UNSPEC;
  netlink::Message message(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
                           netlink::bytes_of(info));
  message.put_string(IFLA_IFNAME, kProbeLink);
  const std::size_t link_info = message.begin_nest(IFLA_LINKINFO);
  message.put_string(IFLA_INFO_KIND, "veth");
  const std::size_t data = message.begin_nest(IFLA_INFO_DATA);
  const std::size_t peer = message.begin_nest(VETH_INFO_PEER);
  message.append(netlink::bytes_of(info));
  message.put_string(IFLA_IFNAME, kProbePeer);
  message.end_nest(peer);
  message.end_nest(data);
  message.end_nest(link_info);
  return rtnl.request(message, "RTM_NEWLINK veth");
}

Result<void> set_up(netlink::Socket& rtnl, const char* name) {
  ifinfomsg info{};
  info.ifi_family = AF_UNSPEC;
  info.ifi_index = static_cast<int>(::if_nametoindex(name));
  info.ifi_flags = IFF_UP;
  info.ifi_change = IFF_UP;
  netlink::Message message(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, netlink::bytes_of(info));
  return rtnl.request(message, std::string("RTM_NEWLINK up ") + name);
}

// "r0 = XDP_PASS; exit": the smallest program a driver can run.
Result<Fd> load_pass_program() {
  std::array<bpf_insn, 2> program{};
  program[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
  program[0].dst_reg = BPF_REG_0;
  program[0].imm = XDP_PASS;
  program[1].code = BPF_JMP | BPF_EXIT;
  static const char kLicense[] = "GPL";
  bpf_attr attr{};
  attr.prog_type = BPF_PROG_TYPE_XDP;
  attr.insns = reinterpret_cast<std::uintptr_t>(program.data());
  attr.insn_cnt = program.size();
  attr.license = reinterpret_cast<std::uintptr_t>(kLicense);
  auto fd =
      sys_call("bpf(BPF_PROG_LOAD)", [&] { return static_cast<int>(bpf(BPF_PROG_LOAD, attr)); });
  if (!fd) return std::unexpected(fd.error());
  return Fd::adopt(*fd);
}

Result<Fd> attach_native(int program, int ifindex) {
  bpf_attr attr{};
  attr.link_create.prog_fd = static_cast<std::uint32_t>(program);
  attr.link_create.target_ifindex = static_cast<std::uint32_t>(ifindex);
  attr.link_create.attach_type = BPF_XDP;
  attr.link_create.flags = XDP_FLAGS_DRV_MODE;
  auto fd = sys_call("bpf(BPF_LINK_CREATE, XDP_FLAGS_DRV_MODE)",
                     [&] { return static_cast<int>(bpf(BPF_LINK_CREATE, attr)); });
  if (!fd) return std::unexpected(fd.error());
  return Fd::adopt(*fd);
}

// An AF_XDP socket with a small UMEM and its rings, ready to bind.
struct ScratchXsk {
  Fd socket;
  ScratchMapping umem;
};

Result<ScratchXsk> make_scratch_xsk() {
  constexpr std::size_t kFrames = 16;
  const std::size_t frame = page_size();
  auto umem = ScratchMapping::create(kFrames * frame);
  if (!umem) return std::unexpected(umem.error());
  auto fd = sys_call("socket(AF_XDP)", [] { return ::socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0); });
  if (!fd) return std::unexpected(fd.error());
  Fd socket = Fd::adopt(*fd);
  xdp_umem_reg reg{};
  reg.addr = reinterpret_cast<std::uintptr_t>(umem->data());
  reg.len = umem->size();
  reg.chunk_size = static_cast<std::uint32_t>(frame);
  const std::uint32_t ring = kFrames;
  const auto option = [&](int name, const void* value, socklen_t size, const char* what) {
    return sys_call({what, socket.get()},
                    [&] { return ::setsockopt(socket.get(), SOL_XDP, name, value, size); });
  };
  if (auto r = option(XDP_UMEM_REG, &reg, sizeof reg, "setsockopt(XDP_UMEM_REG)"); !r) {
    return std::unexpected(r.error());
  }
  for (const auto& [name, what] :
       {std::pair{XDP_UMEM_FILL_RING, "setsockopt(XDP_UMEM_FILL_RING)"},
        {XDP_UMEM_COMPLETION_RING, "setsockopt(XDP_UMEM_COMPLETION_RING)"},
        {XDP_RX_RING, "setsockopt(XDP_RX_RING)"}}) {
    if (auto r = option(name, &ring, sizeof ring, what); !r) return std::unexpected(r.error());
  }
  return ScratchXsk{std::move(socket), std::move(*umem)};
}

int bind_xsk(int socket, int ifindex, std::uint16_t flags) {
  sockaddr_xdp address{};
  address.sxdp_family = AF_XDP;
  address.sxdp_ifindex = static_cast<std::uint32_t>(ifindex);
  address.sxdp_queue_id = 0;
  address.sxdp_flags = flags;
  if (::bind(socket, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) return 0;
  return errno;
}

// Runs on a thread of its own, which alone enters the scratch namespace.
VethFindings examine_veth() {
  VethFindings findings;
  if (::unshare(CLONE_NEWNET) != 0) {
    const int err = errno;
    findings.setup_failure =
        "a scratch network namespace needs CAP_SYS_ADMIN: unshare " + errno_text(err);
    return findings;
  }
  auto rtnl = netlink::Socket::open(NETLINK_ROUTE);
  if (!rtnl) {
    findings.setup_failure = rtnl.error().message();
    return findings;
  }
  if (auto made = create_veth_pair(*rtnl); !made) {
    findings.setup_failure = "cannot make a veth pair: " + made.error().message();
    return findings;
  }
  for (const char* name : {kProbeLink, kProbePeer}) {
    if (auto up = set_up(*rtnl, name); !up) {
      findings.setup_failure = up.error().message();
      return findings;
    }
  }
  const int ifindex = static_cast<int>(::if_nametoindex(kProbeLink));

  auto program = load_pass_program();
  if (!program) {
    findings.native_detail =
        "cannot load an XDP program (needs CAP_BPF or CAP_SYS_ADMIN): " + program.error().message();
  } else if (auto link = attach_native(program->get(), ifindex); !link) {
    findings.native_detail = "veth refused a driver-mode XDP program: " + link.error().message();
  } else {
    findings.native_xdp = true;
  }

  auto xsk = make_scratch_xsk();
  if (!xsk) {
    findings.zero_copy_errno = xsk.error().sys_errno() != 0 ? xsk.error().sys_errno() : EINVAL;
    findings.zero_copy_detail = xsk.error().message();
    return findings;
  }
  findings.zero_copy_errno = bind_xsk(xsk->socket.get(), ifindex, XDP_ZEROCOPY);
  if (findings.zero_copy_errno != 0) {
    findings.zero_copy_detail = "bind(XDP_ZEROCOPY) " + errno_text(findings.zero_copy_errno);
    findings.copy_bind = bind_xsk(xsk->socket.get(), ifindex, XDP_COPY) == 0;
  }
  return findings;
}

const VethFindings& veth_findings() {
  static std::once_flag once;
  static VethFindings findings;
  std::call_once(once, [] {
    // A thread, not the caller: unshare() moves only the calling thread, and this one ends.
    std::thread worker([] { findings = examine_veth(); });
    worker.join();
  });
  return findings;
}

// "virtio_net (eth0): native XDP, redirect, no AF_XDP zero-copy; veth (a, b, +3): ..."
std::string describe_drivers(const std::vector<NetDevice>& devices) {
  std::map<std::string, std::pair<std::vector<std::string>, std::string>> by_driver;
  for (const NetDevice& d : devices) {
    if (d.name == "lo") continue;
    auto& [names, xdp] = by_driver[d.driver.empty() ? "unknown driver" : d.driver];
    names.push_back(d.name);
    xdp = d.describe_xdp();
  }
  std::string text;
  for (const auto& [driver, entry] : by_driver) {
    const auto& [names, xdp] = entry;
    if (!text.empty()) text += "; ";
    text += driver + " (";
    for (std::size_t i = 0; i < names.size() && i < 2; ++i) text += (i ? ", " : "") + names[i];
    if (names.size() > 2) text += ", +" + std::to_string(names.size() - 2);
    text += "): " + xdp;
  }
  return text;
}

}  // namespace

Finding af_xdp() {
  auto socket =
      sys_call("socket(AF_XDP)", [] { return ::socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0); });
  if (!socket) {
    const int err = socket.error().sys_errno();
    if (err == EAFNOSUPPORT) {
      return lacking("kernel lacks CONFIG_XDP_SOCKETS: socket(AF_XDP) " + errno_text(err));
    }
    if (err == EPERM) return lacking("socket(AF_XDP) needs CAP_NET_RAW: " + errno_text(err));
    return lacking(socket.error().message());
  }
  const Fd xdp = Fd::adopt(*socket);
  return found("AF_XDP socket created");
}

Finding xdp_native_veth() {
  const VethFindings& veth = veth_findings();
  if (!veth.setup_failure.empty()) return lacking(veth.setup_failure);
  if (!veth.native_xdp) return lacking(veth.native_detail);
  std::string detail = "a scratch veth pair took an XDP program in driver mode";
  if (veth.copy_bind) detail += "; AF_XDP binds to it in copy mode";
  return found(detail);
}

Finding af_xdp_zero_copy() {
  auto devices = list_net_devices();
  if (!devices) return lacking(devices.error().message());
  // What veth said: the one driver zcopy's tests bind to, tried for real in the scratch namespace.
  std::string veth_note;
  const VethFindings& veth = veth_findings();
  if (veth.setup_failure.empty() && veth.zero_copy_errno != 0) {
    veth_note = "veth: " + veth.zero_copy_detail +
                (veth.zero_copy_errno == EOPNOTSUPP ? ", the driver has no zero-copy path" : "");
  }
  std::string advertised;
  for (const NetDevice& d : *devices) {
    if (!d.xsk_zero_copy()) continue;
    if (!advertised.empty()) advertised += ", ";
    advertised += d.name + " (" + d.driver + ")";
  }
  if (!advertised.empty()) {
    // Not bound here: that would take a queue of a live interface away from the host.
    std::string detail = "advertised by " + advertised + " (netdev xdp-features; not bound)";
    if (!veth_note.empty()) detail += "; " + veth_note;
    return found(detail);
  }
  std::string why = "no interface here advertises it";
  if (const std::string drivers = describe_drivers(*devices); !drivers.empty()) {
    why += ": " + drivers;
  }
  if (!veth_note.empty()) why += "; " + veth_note;
  return lacking(why);
}

}  // namespace zc::probes
