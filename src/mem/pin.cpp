// Region::pin / unpin: lock a region in RAM and fault it in, or say exactly which limit forbids it.
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <fstream>
#include <string>

#include "zcopy/core/syscall.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/mem/region.hpp"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

namespace zc {
namespace {

// CAP_IPC_LOCK in the effective set lifts RLIMIT_MEMLOCK entirely.
bool has_ipc_lock() noexcept {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  return (data[CAP_IPC_LOCK / 32].effective & (1U << (CAP_IPC_LOCK % 32))) != 0;
}

// Bytes this process already has locked (VmLck), which count against the same limit.
std::uint64_t locked_bytes() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmLck:") {
      std::uint64_t kib = 0;
      status >> kib;
      return kib * kKiB;
    }
    status.ignore(1 << 12, '\n');
  }
  return 0;
}

// Whether `bytes` more may be locked, and when a limit applies at all, that limit in words.
struct MemlockBudget {
  bool fits = true;
  std::string detail;
};

MemlockBudget memlock_budget(std::uint64_t bytes) {
  if (has_ipc_lock()) return {};
  rlimit limit{};
  if (::getrlimit(RLIMIT_MEMLOCK, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return {};
  const std::uint64_t locked = locked_bytes();
  const std::uint64_t free = locked < limit.rlim_cur ? limit.rlim_cur - locked : 0;
  MemlockBudget budget;
  budget.fits = bytes <= free;
  budget.detail = "RLIMIT_MEMLOCK is " + format_bytes(limit.rlim_cur) + " (" + format_bytes(free) +
                  " free) and CAP_IPC_LOCK is absent; raise it with 'ulimit -l' or grant "
                  "CAP_IPC_LOCK";
  return budget;
}

}  // namespace

Result<void> Region::pin() {
  if (pinned_ || data_ == nullptr) return {};
  const std::string op = "pin(" + format_bytes(size_) + ")";
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t bytes = (size_ + page - 1) / page * page;

  // Checked up front so the error names the limit instead of a bare ENOMEM.
  if (MemlockBudget budget = memlock_budget(bytes); !budget.fits) {
    return fail(Errc::limit_exceeded, op, std::move(budget.detail));
  }
  // The raw system call: sanitizer runtimes replace mlock() with a no-op (locking their terabytes
  // of shadow would hang the kernel), which would make pin() silently do nothing in those builds.
  auto locked = sys_call("mlock", [&] { return ::syscall(SYS_mlock, data_, size_); });
  if (!locked) {
    const int err = locked.error().sys_errno();
    // The limit can still bite here: another thread may have locked memory since the check.
    if (err == ENOMEM || err == EPERM) {
      if (MemlockBudget budget = memlock_budget(bytes); !budget.detail.empty()) {
        return fail(Errc::limit_exceeded, op, "mlock refused: " + budget.detail);
      }
    }
    return std::unexpected(std::move(locked.error()).with_context(op));
  }

  // mlock(2) promises residency, not page-table entries. Linux happens to populate them too, but
  // only for reading on shared mappings; POPULATE_WRITE asks for exactly what we need, writable
  // entries for every page, so the first write to a file-backed mapping does not fault either.
  const int advice = access_ == Access::read_write ? MADV_POPULATE_WRITE : MADV_POPULATE_READ;
  auto populated =
      sys_call("madvise(MADV_POPULATE)", [&] { return ::madvise(data_, size_, advice); });
  // EINVAL: a kernel older than 5.14 lacks the advice; mlock has already faulted the pages in.
  if (!populated && populated.error().sys_errno() != EINVAL) {
    ::syscall(SYS_munlock, data_, size_);
    return std::unexpected(std::move(populated.error()).with_context(op));
  }
  pinned_ = true;
  return {};
}

Result<void> Region::unpin() {
  if (!pinned_) return {};
  auto unlocked = sys_call("munlock", [&] { return ::syscall(SYS_munlock, data_, size_); });
  if (!unlocked) {
    return std::unexpected(
        std::move(unlocked.error()).with_context("unpin(" + format_bytes(size_) + ")"));
  }
  pinned_ = false;
  return {};
}

}  // namespace zc
