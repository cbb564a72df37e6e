#include "zcopy/core/capabilities.hpp"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/capability_gate.hpp"
#include "support/child_process.hpp"
#include "zcopy/core/fd.hpp"

#ifndef AF_XDP
#define AF_XDP 44
#endif

namespace zc {
namespace {

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string bracketed(const std::string& line) {
  const auto open = line.find('[');
  const auto close = line.find(']');
  if (open == std::string::npos || close == std::string::npos) return {};
  return line.substr(open + 1, close - open - 1);
}

// The effective capability set as /proc reports it: an independent source for the cap probes.
std::uint64_t effective_capabilities_from_proc() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("CapEff:", 0) == 0) return std::stoull(line.substr(7), nullptr, 16);
  }
  return 0;
}

bool holds(int capability) {
  return (effective_capabilities_from_proc() >> capability) & 1U;
}

TEST(Capabilities, EveryProbeGivesAOneLineDetailAboutItself) {
  for (Capability capability : all_capabilities()) {
    const Probe& p = probe(capability);
    EXPECT_EQ(p.capability, capability) << id(capability);
    EXPECT_FALSE(p.detail.empty()) << id(capability);
    EXPECT_FALSE(contains(p.detail, "\n")) << id(capability) << ": " << p.detail;
  }
}

TEST(Capabilities, ProbeIsCachedSoRepeatedCallsReturnTheSameObject) {
  for (Capability capability : all_capabilities()) {
    EXPECT_EQ(&probe(capability), &probe(capability)) << id(capability);
  }
}

TEST(Capabilities, ConcurrentFirstCallsAllSeeOneAnswer) {
  // Run as its own process (as ctest does), this is the first call, and threads race for it.
  std::vector<std::vector<const Probe*>> seen(4);
  std::vector<std::thread> threads;
  for (auto& answers : seen) {
    threads.emplace_back([&answers] {
      for (Capability capability : all_capabilities()) answers.push_back(&probe(capability));
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& answers : seen) EXPECT_EQ(answers, seen.front());
}

TEST(Capabilities, ProbeAllListsEveryCapabilityInOrder) {
  const std::vector<Probe> probes = probe_all();
  ASSERT_EQ(probes.size(), all_capabilities().size());
  for (std::size_t i = 0; i < probes.size(); ++i) {
    EXPECT_EQ(probes[i].capability, all_capabilities()[i]);
    EXPECT_EQ(probes[i].available, probe(probes[i].capability).available);
  }
}

TEST(Capabilities, IdsAndNamesAreUniqueAndParseBack) {
  std::set<std::string_view> ids;
  for (Capability capability : all_capabilities()) {
    EXPECT_TRUE(ids.insert(id(capability)).second) << id(capability);
    EXPECT_EQ(capability_from_name(id(capability)), capability);
    EXPECT_EQ(capability_from_name(name(capability)), capability);
  }
  EXPECT_EQ(capability_from_name("io_uring send_zc"), Capability::io_uring_send_zc);
  EXPECT_EQ(capability_from_name("io_uring_send"), std::nullopt);
  EXPECT_EQ(capability_from_name(""), std::nullopt);
}

TEST(Capabilities, DroppingCapSysAdminHidesItAndPhysicalFrameNumbers) {
  // The cache belongs to the parent's privileges, so the child asks uncached.
  const int status = test::run_in_child([] {
    if (!test::drop_capability(CAP_SYS_ADMIN)) return 10;
    const Probe admin = probe_uncached(Capability::cap_sys_admin);
    if (admin.available || !contains(admin.detail, "CAP_SYS_ADMIN")) return 11;
    const Probe pagemap = probe_uncached(Capability::pagemap_physical);
    if (pagemap.available || !contains(pagemap.detail, "CAP_SYS_ADMIN")) return 12;
    const Probe passthrough = probe_uncached(Capability::fuse_passthrough);
    if (passthrough.available) return 13;
    return 0;
  });
  EXPECT_EQ(status, 0) << "10: capset failed, 11: cap_sys_admin, 12: pagemap_physical, "
                          "13: fuse_passthrough still reported available";
}

TEST(Capabilities, WithoutCapDacReadSearchFileHandlesAreMissingWithTheReason) {
  const bool available = probe(Capability::fuse_file_handles).available;
  const int status = test::run_in_child([] {
    if (!test::drop_capability(CAP_DAC_READ_SEARCH)) return 10;
    const Probe handles = probe_uncached(Capability::fuse_file_handles);
    if (handles.available || !contains(handles.detail, "CAP_DAC_READ_SEARCH")) return 11;
    return 0;
  });
  if (!available) ZC_SKIP_BECAUSE(probe(Capability::fuse_file_handles).detail);
  EXPECT_EQ(status, 0) << "10: capset failed, 11: fuse_file_handles still available or "
                          "without the reason";
}

TEST(Capabilities, AnUnprivilegedUserSeesPrivilegedFacilitiesAsMissingWithTheReason) {
  ZC_REQUIRE_ROOT("to become another user");
  const bool xdp_in_kernel = probe(Capability::af_xdp).available;
  const bool memlock_unlimited = contains(probe(Capability::memlock).detail, "unlimited");
  const bool uffd_sysctl_closed = first_line("/proc/sys/vm/unprivileged_userfaultfd") == "0";
  // The child becomes "other" to the root-owned device node.
  struct stat device {};
  const bool uffd_device_private =
      ::stat("/dev/userfaultfd", &device) != 0 || (device.st_mode & 0006) == 0;
  const int status = test::run_in_child([&] {
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) return 10;
    for (Capability c : {Capability::cap_ipc_lock, Capability::cap_sys_admin,
                         Capability::cap_net_admin, Capability::pagemap_physical}) {
      if (probe_uncached(c).available) return 11;
    }
    const Probe xdp = probe_uncached(Capability::af_xdp);
    if (xdp_in_kernel && (xdp.available || !contains(xdp.detail, "CAP_NET_RAW"))) return 12;
    const Probe memlock = probe_uncached(Capability::memlock);
    if (!memlock_unlimited && (memlock.available || !contains(memlock.detail, "CAP_IPC_LOCK"))) {
      return 13;
    }
    const Probe uffd = probe_uncached(Capability::userfaultfd_wp);
    if (uffd_sysctl_closed && uffd_device_private &&
        (uffd.available || !contains(uffd.detail, "vm.unprivileged_userfaultfd"))) {
      return 14;
    }
    return 0;
  });
  EXPECT_EQ(status, 0) << "10: setuid, 11: a privilege probe, 12: af_xdp, 13: memlock, "
                          "14: userfaultfd_wp";
}

TEST(Capabilities, IoUringProbeAgreesWithARealRingSetup) {
  io_uring_params params{};
  const long fd = ::syscall(SYS_io_uring_setup, 4, &params);
  const int setup_errno = errno;
  const Fd ring = Fd::adopt(static_cast<int>(fd));
  const Probe& p = probe(Capability::io_uring);
  EXPECT_EQ(p.available, fd >= 0) << p.detail;
  if (fd < 0 && setup_errno == EPERM) {
    EXPECT_TRUE(contains(p.detail, "io_uring_disabled")) << p.detail;
  }
  if (fd < 0 && setup_errno == ENOSYS) {
    EXPECT_TRUE(contains(p.detail, "ENOSYS")) << p.detail;
  }
}

TEST(Capabilities, MemfdSealsProbeAgreesWithARealSealedMemfd) {
  const Fd file = Fd::adopt(::memfd_create("zcopy-test-seals", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  ASSERT_TRUE(file.valid());
  ASSERT_EQ(::ftruncate(file.get(), 4096), 0);
  const bool sealed =
      ::fcntl(file.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE) == 0;
  const bool write_refused = ::pwrite(file.get(), "x", 1, 0) == -1 && errno == EPERM;
  EXPECT_EQ(probe(Capability::memfd_seals).available, sealed && write_refused);
}

TEST(Capabilities, HugePageProbesMatchSysfs) {
  const std::string thp = bracketed(first_line("/sys/kernel/mm/transparent_hugepage/enabled"));
  const Probe& anonymous = probe(Capability::transparent_huge_pages);
  EXPECT_EQ(anonymous.available, thp == "always" || thp == "madvise") << anonymous.detail;
  if (!thp.empty()) {
    EXPECT_TRUE(contains(anonymous.detail, thp)) << anonymous.detail;
  }

  const std::string shmem =
      bracketed(first_line("/sys/kernel/mm/transparent_hugepage/shmem_enabled"));
  const Probe& shared = probe(Capability::shmem_huge_pages);
  EXPECT_EQ(shared.available,
            shmem == "always" || shmem == "within_size" || shmem == "advise" || shmem == "force")
      << shared.detail;
  if (!shared.available && !shmem.empty()) {
    EXPECT_TRUE(contains(shared.detail, "shmem_enabled = " + shmem)) << shared.detail;
  }

  const std::string reserved = first_line("/proc/sys/vm/nr_hugepages");
  const Probe& hugetlb = probe(Capability::hugetlb_pages);
  EXPECT_EQ(hugetlb.available, !reserved.empty() && std::stoull(reserved) > 0) << hugetlb.detail;
  EXPECT_TRUE(contains(hugetlb.detail, "vm.nr_hugepages")) << hugetlb.detail;
}

TEST(Capabilities, PrivilegeProbesMatchTheEffectiveSetInProc) {
  EXPECT_EQ(probe(Capability::cap_ipc_lock).available, holds(CAP_IPC_LOCK));
  EXPECT_EQ(probe(Capability::cap_sys_admin).available, holds(CAP_SYS_ADMIN));
  EXPECT_EQ(probe(Capability::cap_net_admin).available, holds(CAP_NET_ADMIN));
  // Since Linux 4.2 frame numbers are shown exactly to CAP_SYS_ADMIN holders.
  EXPECT_EQ(probe(Capability::pagemap_physical).available, holds(CAP_SYS_ADMIN));

  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_MEMLOCK, &limit), 0);
  const Probe& memlock = probe(Capability::memlock);
  EXPECT_EQ(memlock.available, limit.rlim_cur == RLIM_INFINITY || holds(CAP_IPC_LOCK));
  EXPECT_TRUE(contains(memlock.detail, "RLIMIT_MEMLOCK")) << memlock.detail;
}

TEST(Capabilities, SocketProbesAgreeWithRealSockets) {
  const Fd tcp = Fd::adopt(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(tcp.valid());
  const int one = 1;
  const bool zerocopy = ::setsockopt(tcp.get(), SOL_SOCKET, SO_ZEROCOPY, &one, sizeof one) == 0;
  EXPECT_EQ(probe(Capability::msg_zerocopy).available, zerocopy);

  const Fd xdp = Fd::adopt(::socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0));
  const int xdp_errno = errno;
  const Probe& af_xdp = probe(Capability::af_xdp);
  EXPECT_EQ(af_xdp.available, xdp.valid()) << af_xdp.detail;
  if (!xdp.valid() && xdp_errno == EPERM) {
    EXPECT_TRUE(contains(af_xdp.detail, "CAP_NET_RAW"));
  }
  if (!xdp.valid() && xdp_errno == EAFNOSUPPORT) {
    EXPECT_TRUE(contains(af_xdp.detail, "CONFIG_XDP_SOCKETS"));
  }
}

TEST(Capabilities, FuseProbeAgreesWithOpeningTheDevice) {
  const Fd device = Fd::adopt(::open("/dev/fuse", O_RDWR | O_CLOEXEC));
  const Probe& fuse = probe(Capability::fuse);
  EXPECT_EQ(fuse.available, device.valid()) << fuse.detail;
  if (!device.valid()) {
    EXPECT_TRUE(contains(fuse.detail, "/dev/fuse")) << fuse.detail;
  }
  // Passthrough needs the device on top of the kernel version and privilege.
  if (!fuse.available) {
    EXPECT_FALSE(probe(Capability::fuse_passthrough).available);
  }
  if (probe(Capability::fuse_passthrough).available) {
    EXPECT_TRUE(contains(probe(Capability::fuse_passthrough).detail, "mount time"));
  }
}

TEST(Capabilities, IoUringOperationProbesFollowTheRingProbe) {
  const bool ring = probe(Capability::io_uring).available;
  const std::pair<Capability, const char*> ops[] = {
      {Capability::io_uring_splice, "IORING_OP_SPLICE"},
      {Capability::io_uring_send_zc, "IORING_OP_SEND_ZC"},
      {Capability::io_uring_sendmsg_zc, "IORING_OP_SENDMSG_ZC"},
      {Capability::io_uring_fixed_buffers, "IORING_REGISTER_BUFFERS"},
  };
  for (const auto& [op, opcode] : ops) {
    const Probe& p = probe(op);
    if (!ring) {
      EXPECT_FALSE(p.available) << id(op);
      EXPECT_TRUE(contains(p.detail, "needs io_uring")) << p.detail;
    } else if (op != Capability::io_uring_fixed_buffers || p.available) {
      EXPECT_TRUE(contains(p.detail, opcode)) << p.detail;
    }
  }
}

}  // namespace
}  // namespace zc
