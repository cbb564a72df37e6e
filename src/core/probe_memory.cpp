// Probes of memory facilities and privileges: userfaultfd write-protect, memfd seals, huge pages,
// the memlock limit, effective capabilities and physical frame numbers.
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "probe_support.hpp"
#include "zcopy/core/process_privileges.hpp"
#include "zcopy/core/syscall.hpp"
#include "zcopy/core/units.hpp"

namespace zc::probes {
namespace {

// A userfaultfd, from the system call or, when that is refused, from /dev/userfaultfd (whose
// file permissions replace the vm.unprivileged_userfaultfd check). `via` says which worked; the
// error names why both failed.
Result<Fd> open_userfaultfd(std::string& via) {
  constexpr int kFlags = O_CLOEXEC | O_NONBLOCK;
  auto direct = sys_call("userfaultfd", [] { return ::syscall(SYS_userfaultfd, kFlags); });
  if (direct) {
    via = "userfaultfd(2)";
    return Fd::adopt(static_cast<int>(*direct));
  }
  const int direct_errno = direct.error().sys_errno();
  std::string why = "userfaultfd(2): " + errno_text(direct_errno);
  if (direct_errno == EPERM) {
    auto sysctl = read_first_line("/proc/sys/vm/unprivileged_userfaultfd");
    why += " (vm.unprivileged_userfaultfd = " + (sysctl ? *sysctl : std::string("?")) +
           " and no CAP_SYS_PTRACE)";
  } else if (direct_errno == ENOSYS) {
    why += " (kernel built without CONFIG_USERFAULTFD)";
  }
  auto device = Fd::open("/dev/userfaultfd", O_RDWR);
  if (!device) {
    return fail(Errc::capability_missing, "userfaultfd", why + "; " + device.error().message());
  }
  auto made = sys_call({"ioctl(USERFAULTFD_IOC_NEW)", device->get()},
                       [&] { return ::ioctl(device->get(), USERFAULTFD_IOC_NEW, kFlags); });
  if (!made) {
    return fail(Errc::capability_missing, "userfaultfd", why + "; " + made.error().message());
  }
  via = "/dev/userfaultfd";
  return Fd::adopt(*made);
}

// One sysfs THP policy file: available when its bracketed choice is one of `enabling`.
Finding huge_page_policy(const char* path, std::initializer_list<std::string_view> enabling) {
  auto line = read_first_line(path);
  if (!line) {
    std::string why = line.error().message();
    if (line.error().sys_errno() == ENOENT) why += " (kernel without CONFIG_TRANSPARENT_HUGEPAGE)";
    return lacking(why);
  }
  auto choice = bracketed_choice(*line);
  if (!choice) return lacking(std::string(path) + " has no bracketed choice: '" + *line + "'");
  for (std::string_view value : enabling) {
    if (*choice == value) return found(*choice + " (" + path + ")");
  }
  return lacking(std::string(path) + " = " + *choice);
}

}  // namespace

Finding userfaultfd_wp() {
  std::string via;
  auto uffd = open_userfaultfd(via);
  if (!uffd) return lacking(uffd.error().detail());

  uffdio_api api{};
  api.api = UFFD_API;
  api.features = UFFD_FEATURE_PAGEFAULT_FLAG_WP;
  if (auto rc = sys_call({"ioctl(UFFDIO_API)", uffd->get()},
                         [&] { return ::ioctl(uffd->get(), UFFDIO_API, &api); });
      !rc) {
    if (rc.error().sys_errno() == EINVAL) {
      return lacking("UFFDIO_API: kernel lacks UFFD_FEATURE_PAGEFAULT_FLAG_WP " +
                     errno_text(EINVAL));
    }
    return lacking(rc.error().message());
  }

  // Write-protection applies to present pages, so touch the page before registering it.
  const std::size_t length = page_size();
  auto page = ScratchMapping::create(length);
  if (!page) return lacking(page.error().message());
  page->data()[0] = std::byte{1};

  uffdio_register registration{};
  registration.range.start = reinterpret_cast<std::uintptr_t>(page->data());
  registration.range.len = length;
  registration.mode = UFFDIO_REGISTER_MODE_WP;
  if (auto rc = sys_call({"ioctl(UFFDIO_REGISTER, MODE_WP)", uffd->get()},
                         [&] { return ::ioctl(uffd->get(), UFFDIO_REGISTER, &registration); });
      !rc) {
    return lacking(rc.error().message());
  }
  if ((registration.ioctls & (std::uint64_t{1} << _UFFDIO_WRITEPROTECT)) == 0) {
    return lacking("UFFDIO_REGISTER did not offer UFFDIO_WRITEPROTECT for anonymous memory");
  }

  uffdio_writeprotect protect{};
  protect.range = registration.range;
  protect.mode = UFFDIO_WRITEPROTECT_MODE_WP;
  if (auto rc = sys_call({"ioctl(UFFDIO_WRITEPROTECT)", uffd->get()},
                         [&] { return ::ioctl(uffd->get(), UFFDIO_WRITEPROTECT, &protect); });
      !rc) {
    return lacking(rc.error().message());
  }
  // Nothing writes the page again: it is unmapped, then the userfaultfd closed, on return.
  return found("write-protected an anonymous page through " + via);
}

Finding memfd_seals() {
  auto file = make_memfd("zcopy-probe-seals", MFD_ALLOW_SEALING);
  if (!file) return lacking(file.error().message());
  const int fd = file->get();
  const auto length = static_cast<off_t>(page_size());
  if (auto rc = sys_call({"ftruncate", fd}, [&] { return ::ftruncate(fd, length); }); !rc) {
    return lacking(rc.error().message());
  }
  constexpr int kSeals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE;
  if (auto rc =
          sys_call({"fcntl(F_ADD_SEALS)", fd}, [&] { return ::fcntl(fd, F_ADD_SEALS, kSeals); });
      !rc) {
    std::string why = rc.error().message();
    if (rc.error().sys_errno() == EINVAL) why += " (F_SEAL_FUTURE_WRITE needs Linux 5.1)";
    return lacking(why);
  }
  auto seals = sys_call({"fcntl(F_GET_SEALS)", fd}, [&] { return ::fcntl(fd, F_GET_SEALS); });
  if (!seals) return lacking(seals.error().message());
  if ((*seals & kSeals) != kSeals) {
    return lacking("F_GET_SEALS does not report the seals just added");
  }
  const char byte = 'x';
  if (::pwrite(fd, &byte, 1, 0) != -1 || errno != EPERM) {
    return lacking("a write to a memfd sealed with F_SEAL_FUTURE_WRITE was not refused");
  }
  return found("sealed SHRINK|GROW|FUTURE_WRITE; a later write was refused");
}

Finding transparent_huge_pages() {
  return huge_page_policy("/sys/kernel/mm/transparent_hugepage/enabled", {"always", "madvise"});
}

Finding shmem_huge_pages() {
  return huge_page_policy("/sys/kernel/mm/transparent_hugepage/shmem_enabled",
                          {"always", "within_size", "advise", "force"});
}

Finding hugetlb_pages() {
  constexpr const char* kPath = "/proc/sys/vm/nr_hugepages";
  auto line = read_first_line(kPath);
  if (!line) return lacking(line.error().message());
  std::uint64_t pages = 0;
  const auto parsed = std::from_chars(line->data(), line->data() + line->size(), pages);
  if (parsed.ec != std::errc() || parsed.ptr != line->data() + line->size()) {
    return lacking(std::string(kPath) + " holds '" + *line + "'");
  }
  if (pages == 0) {
    return lacking("vm.nr_hugepages = 0: no hugetlbfs pages are reserved (" + std::string(kPath) +
                   ")");
  }
  return found("vm.nr_hugepages = " + *line);
}

Finding memlock() {
  rlimit limit{};
  if (auto rc = sys_call("getrlimit(RLIMIT_MEMLOCK)",
                         [&] { return ::getrlimit(RLIMIT_MEMLOCK, &limit); });
      !rc) {
    return lacking(rc.error().message());
  }
  if (limit.rlim_cur == RLIM_INFINITY) return found("RLIMIT_MEMLOCK unlimited");
  const std::string limit_text = "RLIMIT_MEMLOCK " + format_bytes(limit.rlim_cur);
  auto lock = has_effective_capability(CAP_IPC_LOCK);
  if (!lock) return lacking(limit_text + "; " + lock.error().message());
  if (*lock) return found(limit_text + ", not enforced: CAP_IPC_LOCK");
  return lacking(limit_text + " and no CAP_IPC_LOCK: pinning more fails (raise ulimit -l)");
}

Finding effective_capability(int capability, const char* capability_name) {
  auto held = has_effective_capability(capability);
  if (!held) return lacking(held.error().message());
  if (*held) return found(std::string(capability_name) + " in the effective set");
  return lacking(std::string(capability_name) + " not in the effective set (euid " +
                 std::to_string(::geteuid()) + ")");
}

Finding pagemap_physical() {
  const std::size_t length = page_size();
  auto page = ScratchMapping::create(length);
  if (!page) return lacking(page.error().message());
  page->data()[0] = std::byte{1};  // a present page has a frame to report

  // The kernel decides at open time whether this reader may see frame numbers.
  auto pagemap = Fd::open("/proc/self/pagemap", O_RDONLY);
  if (!pagemap) return lacking(pagemap.error().message());
  std::uint64_t entry = 0;
  const auto offset =
      static_cast<off_t>(reinterpret_cast<std::uintptr_t>(page->data()) / length * sizeof entry);
  auto n = sys_call({"pread(/proc/self/pagemap)", pagemap->get()},
                    [&] { return ::pread(pagemap->get(), &entry, sizeof entry, offset); });
  if (!n) return lacking(n.error().message());
  if (static_cast<std::size_t>(*n) != sizeof entry) {
    return lacking("short read of /proc/self/pagemap");
  }

  constexpr std::uint64_t kPresent = std::uint64_t{1} << 63;
  constexpr std::uint64_t kFrameMask = (std::uint64_t{1} << 55) - 1;
  if ((entry & kPresent) == 0) {
    return lacking("/proc/self/pagemap shows a touched page as not present");
  }
  if ((entry & kFrameMask) == 0) {
    return lacking("/proc/self/pagemap reports frame 0: reading frame numbers needs CAP_SYS_ADMIN");
  }
  return found("/proc/self/pagemap reveals physical frame numbers");
}

}  // namespace zc::probes
