// zcopy/core/capabilities.hpp: what this machine's kernel and privileges allow, probed for real.
//
// Each probe exercises the facility (sets up an io_uring, splices a page, registers a userfaultfd
// range, ...) instead of guessing from version numbers, and says in one line why it is missing.
// `zcopy doctor` prints them all; code falls back or refuses with the same reason; tests skip with
// it (or fail, under ZCOPY_REQUIRE_ALL=1).
//
//   zc::Probe p = zc::probe(zc::Capability::msg_zerocopy);
//   if (!p.available) std::fprintf(stderr, "MSG_ZEROCOPY unavailable: %s\n", p.detail.c_str());
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace zc {

enum class Capability {
  io_uring,                // io_uring_setup works (not disabled by sysctl or seccomp)
  io_uring_splice,         // IORING_OP_SPLICE
  io_uring_send_zc,        // IORING_OP_SEND_ZC
  io_uring_sendmsg_zc,     // IORING_OP_SENDMSG_ZC
  io_uring_fixed_buffers,  // registered buffers (IORING_REGISTER_BUFFERS)
  splice,                  // splice(2) between a file, a pipe and a socket
  sendfile,                // sendfile(2) from a file to a socket
  msg_zerocopy,            // SO_ZEROCOPY on a TCP socket
  fuse,                    // /dev/fuse can be opened
  fuse_passthrough,        // FUSE passthrough: kernel >= 6.9 and CAP_SYS_ADMIN
  af_xdp,                  // an AF_XDP socket can be created
  xdp_native_veth,         // veth runs XDP programs in driver mode (what AF_XDP copy mode uses)
  af_xdp_zero_copy,        // an interface here advertises AF_XDP zero-copy (veth never does)
  userfaultfd_wp,          // userfaultfd write-protect of anonymous memory
  memfd_seals,             // memfd_create with F_SEAL_SHRINK/GROW/FUTURE_WRITE
  transparent_huge_pages,  // THP for anonymous memory (always or madvise)
  shmem_huge_pages,        // THP for memfd/shmem mappings
  hugetlb_pages,           // preallocated hugetlbfs pages (vm.nr_hugepages > 0)
  memlock,                 // pinning is not capped by RLIMIT_MEMLOCK (unlimited or CAP_IPC_LOCK)
  cap_ipc_lock,            // CAP_IPC_LOCK in the effective set
  cap_sys_admin,           // CAP_SYS_ADMIN in the effective set
  cap_net_admin,           // CAP_NET_ADMIN in the effective set
  pagemap_physical,        // /proc/self/pagemap reveals physical frame numbers
};

// Every capability, in the order `zcopy doctor` lists them.
std::span<const Capability> all_capabilities() noexcept;

// The short name shown in skip messages and errors ("io_uring SEND_ZC").
std::string_view name(Capability capability) noexcept;

// The identifier `zcopy doctor` lists and `--require` accepts: the enumerator's spelling
// ("io_uring_send_zc").
std::string_view id(Capability capability) noexcept;

// The capability whose id() or (ignoring case) name() is `text`; nullopt when none is.
std::optional<Capability> capability_from_name(std::string_view text) noexcept;

struct Probe {
  Capability capability;
  bool available = false;
  // When available: what was found ("madvise", "unlimited", "kernel 6.18"). When missing: why,
  // in one line that names what is lacking ("io_uring disabled: kernel.io_uring_disabled = 2").
  std::string detail;
};

// Runs the probe once per process and caches the answer; thread-safe. The reference stays valid
// for the life of the process.
const Probe& probe(Capability capability);

// Runs the probe now, bypassing and not filling the cache: for a process whose privileges changed
// since the cached answer (a child that dropped a capability after fork).
Probe probe_uncached(Capability capability);

// Every probe, in all_capabilities() order.
std::vector<Probe> probe_all();

}  // namespace zc
