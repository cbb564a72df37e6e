// The capability table, the per-process cache, and the dispatch to each probe.
#include "zcopy/core/capabilities.hpp"

#include <linux/capability.h>

#include <array>
#include <cctype>
#include <cstddef>
#include <mutex>

#include "probe_support.hpp"
#include "zcopy/core/ascii.hpp"

namespace zc {
namespace {

struct Entry {
  Capability capability;
  std::string_view id;
  std::string_view name;
};

// One row per enumerator, in enum order (checked below), which is also the order doctor lists.
constexpr std::array kEntries{
    Entry{Capability::io_uring, "io_uring", "io_uring"},
    Entry{Capability::io_uring_splice, "io_uring_splice", "io_uring SPLICE"},
    Entry{Capability::io_uring_send_zc, "io_uring_send_zc", "io_uring SEND_ZC"},
    Entry{Capability::io_uring_sendmsg_zc, "io_uring_sendmsg_zc", "io_uring SENDMSG_ZC"},
    Entry{Capability::io_uring_fixed_buffers, "io_uring_fixed_buffers", "io_uring fixed buffers"},
    Entry{Capability::splice, "splice", "splice"},
    Entry{Capability::sendfile, "sendfile", "sendfile"},
    Entry{Capability::msg_zerocopy, "msg_zerocopy", "MSG_ZEROCOPY"},
    Entry{Capability::fuse, "fuse", "FUSE"},
    Entry{Capability::fuse_passthrough, "fuse_passthrough", "FUSE passthrough"},
    Entry{Capability::af_xdp, "af_xdp", "AF_XDP"},
    Entry{Capability::xdp_native_veth, "xdp_native_veth", "native XDP on veth"},
    Entry{Capability::af_xdp_zero_copy, "af_xdp_zero_copy", "AF_XDP zero-copy"},
    Entry{Capability::userfaultfd_wp, "userfaultfd_wp", "userfaultfd write-protect"},
    Entry{Capability::memfd_seals, "memfd_seals", "memfd seals"},
    Entry{Capability::transparent_huge_pages, "transparent_huge_pages", "transparent huge pages"},
    Entry{Capability::shmem_huge_pages, "shmem_huge_pages", "shmem huge pages"},
    Entry{Capability::hugetlb_pages, "hugetlb_pages", "hugetlb pages"},
    Entry{Capability::memlock, "memlock", "unlimited memlock"},
    Entry{Capability::cap_ipc_lock, "cap_ipc_lock", "CAP_IPC_LOCK"},
    Entry{Capability::cap_sys_admin, "cap_sys_admin", "CAP_SYS_ADMIN"},
    Entry{Capability::cap_net_admin, "cap_net_admin", "CAP_NET_ADMIN"},
    Entry{Capability::pagemap_physical, "pagemap_physical", "physical pagemap"},
};

constexpr bool entries_follow_enum_order() {
  for (std::size_t i = 0; i < kEntries.size(); ++i) {
    if (static_cast<std::size_t>(kEntries[i].capability) != i) return false;
  }
  return kEntries.back().capability == Capability::pagemap_physical;  // the last enumerator
}
static_assert(entries_follow_enum_order(), "kEntries must list every Capability in enum order");

constexpr auto kAll = [] {
  std::array<Capability, kEntries.size()> all{};
  for (std::size_t i = 0; i < kEntries.size(); ++i) all[i] = kEntries[i].capability;
  return all;
}();

const Entry& entry(Capability capability) noexcept {
  return kEntries[static_cast<std::size_t>(capability)];
}

probes::Finding run(Capability capability) {
  switch (capability) {
    case Capability::io_uring:
      return probes::io_uring();
    case Capability::io_uring_splice:
    case Capability::io_uring_send_zc:
    case Capability::io_uring_sendmsg_zc:
      return probes::io_uring_opcode(capability);
    case Capability::io_uring_fixed_buffers:
      return probes::io_uring_fixed_buffers();
    case Capability::splice:
      return probes::splice();
    case Capability::sendfile:
      return probes::sendfile();
    case Capability::msg_zerocopy:
      return probes::msg_zerocopy();
    case Capability::fuse:
      return probes::fuse();
    case Capability::fuse_passthrough:
      return probes::fuse_passthrough();
    case Capability::af_xdp:
      return probes::af_xdp();
    case Capability::xdp_native_veth:
      return probes::xdp_native_veth();
    case Capability::af_xdp_zero_copy:
      return probes::af_xdp_zero_copy();
    case Capability::userfaultfd_wp:
      return probes::userfaultfd_wp();
    case Capability::memfd_seals:
      return probes::memfd_seals();
    case Capability::transparent_huge_pages:
      return probes::transparent_huge_pages();
    case Capability::shmem_huge_pages:
      return probes::shmem_huge_pages();
    case Capability::hugetlb_pages:
      return probes::hugetlb_pages();
    case Capability::memlock:
      return probes::memlock();
    case Capability::cap_ipc_lock:
      return probes::effective_capability(CAP_IPC_LOCK, "CAP_IPC_LOCK");
    case Capability::cap_sys_admin:
      return probes::effective_capability(CAP_SYS_ADMIN, "CAP_SYS_ADMIN");
    case Capability::cap_net_admin:
      return probes::effective_capability(CAP_NET_ADMIN, "CAP_NET_ADMIN");
    case Capability::pagemap_physical:
      return probes::pagemap_physical();
  }
  return probes::lacking("unknown capability");
}

// The cache: each slot is filled exactly once, by whichever thread asks first; call_once makes
// the others wait for that answer and publishes it to them.
struct CacheSlot {
  std::once_flag once;
  Probe probe;
};
std::array<CacheSlot, kEntries.size()> cache;

}  // namespace

std::span<const Capability> all_capabilities() noexcept {
  return kAll;
}

std::string_view name(Capability capability) noexcept {
  return entry(capability).name;
}

std::string_view id(Capability capability) noexcept {
  return entry(capability).id;
}

std::optional<Capability> capability_from_name(std::string_view text) noexcept {
  for (const Entry& e : kEntries) {
    if (text == e.id || ascii::equals_ignoring_case(text, e.name)) return e.capability;
  }
  return std::nullopt;
}

Probe probe_uncached(Capability capability) {
  probes::Finding finding = run(capability);
  if (finding.detail.empty()) finding.detail = finding.available ? "available" : "unavailable";
  return Probe{capability, finding.available, std::move(finding.detail)};
}

const Probe& probe(Capability capability) {
  CacheSlot& slot = cache[static_cast<std::size_t>(capability)];
  std::call_once(slot.once, [&] { slot.probe = probe_uncached(capability); });
  return slot.probe;
}

std::vector<Probe> probe_all() {
  std::vector<Probe> probes;
  probes.reserve(kAll.size());
  for (Capability capability : kAll) probes.push_back(probe(capability));
  return probes;
}

}  // namespace zc
