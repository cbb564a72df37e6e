// Region: creating, attaching, sharing and sealing mappings (pinning lives in pin.cpp).
#include "zcopy/mem/region.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>
#include <utility>

#include "zcopy/core/syscall.hpp"
#include "zcopy/core/units.hpp"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

namespace zc {
namespace {

constexpr const char* kThpDir = "/sys/kernel/mm/transparent_hugepage/";

std::size_t page_size() noexcept {
  return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

// Rounds up to a power-of-two multiple; false when the result would not fit.
bool round_up(std::size_t value, std::size_t multiple, std::size_t& out) noexcept {
  if (value > std::numeric_limits<std::size_t>::max() - (multiple - 1)) return false;
  out = (value + multiple - 1) & ~(multiple - 1);
  return true;
}

// The selected word of a sysfs choice file ("always [madvise] never" -> "madvise"), or "" when the
// file is missing or unreadable.
std::string sysfs_choice(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return {};
  const auto open = line.find('[');
  const auto close = line.find(']', open == std::string::npos ? 0 : open);
  if (open == std::string::npos || close == std::string::npos) return line;
  return line.substr(open + 1, close - open - 1);
}

// Whether the kernel gives 2 MiB transparent huge pages to this kind of memory. The per-size
// control (kernel >= 6.8) overrides the global one unless it says "inherit".
Result<void> check_thp(bool shmem, const std::string& operation) {
  const std::string file = shmem ? "shmem_enabled" : "enabled";
  const std::string global_path = kThpDir + file;
  const std::string sized_file = "hugepages-2048kB/" + file;
  const std::string global = sysfs_choice(global_path);
  if (global.empty()) {
    return fail(Errc::capability_missing, operation,
                "transparent huge pages unsupported: cannot read " + global_path);
  }
  const std::string sized = sysfs_choice(kThpDir + sized_file);
  const std::string& effective = (sized.empty() || sized == "inherit") ? global : sized;
  const bool usable = shmem ? (effective == "always" || effective == "within_size" ||
                               effective == "advise" || effective == "force")
                            : (effective == "always" || effective == "madvise");
  if (usable) return {};
  std::string detail = std::string(shmem ? "shmem" : "anonymous") +
                       " transparent huge pages are disabled: " + global_path + " is '" + global +
                       "'";
  if (!sized.empty()) detail += " (" + sized_file + " is '" + sized + "')";
  return fail(Errc::capability_missing, operation, std::move(detail));
}

// Maps `size` bytes at an address aligned to `alignment` (a power of two, at least a page):
// reserve `size + alignment` of address space, map the real thing over the aligned part, give back
// the slack on both sides.
Result<std::byte*> map_aligned(std::size_t size, std::size_t alignment, int prot, int flags,
                               int fd) {
  const std::string what = "mmap(" + format_bytes(size) + ")";
  if (alignment <= page_size()) {
    void* p = ::mmap(nullptr, size, prot, flags, fd, 0);
    if (p == MAP_FAILED) return fail_errno(errno, what);
    return static_cast<std::byte*>(p);
  }
  if (size > std::numeric_limits<std::size_t>::max() - alignment) {
    return fail(Errc::invalid_argument, what, "size too large to align");
  }
  const std::size_t span = size + alignment;
  void* reserved =
      ::mmap(nullptr, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (reserved == MAP_FAILED) return fail_errno(errno, what, "reserving aligned address space");
  auto* base = static_cast<std::byte*>(reserved);
  const auto misalignment = reinterpret_cast<std::uintptr_t>(base) & (alignment - 1);
  const std::size_t head = misalignment == 0 ? 0 : alignment - misalignment;
  const std::size_t tail = span - head - size;
  std::byte* aligned = base + head;
  void* p = ::mmap(aligned, size, prot, flags | MAP_FIXED, fd, 0);
  if (p == MAP_FAILED) {
    const int saved = errno;
    ::munmap(reserved, span);
    return fail_errno(saved, what);
  }
  if (head > 0) ::munmap(base, head);
  if (tail > 0) ::munmap(aligned + size, tail);
  return aligned;
}

std::string describe_create(const char* kind, std::size_t size, const RegionOptions& options) {
  std::string text = std::string(kind) + "(" + format_bytes(size);
  if (options.huge_pages) text += ", huge pages";
  return text + ")";
}

}  // namespace

Result<Region> Region::create_anonymous(std::size_t size, const RegionOptions& options) {
  const std::string op = describe_create("Region::create_anonymous", size, options);
  if (size == 0) return fail(Errc::invalid_argument, op, "size must not be zero");
  std::size_t alignment = page_size();
  if (options.huge_pages) {
    if (auto thp = check_thp(false, op); !thp) return std::unexpected(thp.error());
    alignment = kHugePageSize;
  }
  if (!round_up(size, alignment, size)) return fail(Errc::invalid_argument, op, "size too large");

  auto data = map_aligned(size, alignment, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
  if (!data) return std::unexpected(std::move(data.error()).with_context(op));
  Region region;
  region.data_ = *data;
  region.size_ = size;
  if (auto applied = region.apply_options(options, op); !applied) {
    return std::unexpected(applied.error());
  }
  return region;
}

Result<Region> Region::create_shared(std::size_t size, const RegionOptions& options) {
  const std::string op = describe_create("Region::create_shared", size, options);
  if (size == 0) return fail(Errc::invalid_argument, op, "size must not be zero");
  std::size_t alignment = page_size();
  if (options.huge_pages) {
    if (auto thp = check_thp(true, op); !thp) return std::unexpected(thp.error());
    alignment = kHugePageSize;
  }
  if (!round_up(size, alignment, size) ||
      size > static_cast<std::size_t>(std::numeric_limits<off_t>::max())) {
    return fail(Errc::invalid_argument, op, "size too large");
  }

  auto raw = sys_call("memfd_create", [&] {
    return ::memfd_create(options.name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
  });
  if (!raw) return std::unexpected(std::move(raw.error()).with_context(op));
  Region region;
  region.memfd_ = Fd::adopt(*raw);
  const int fd = region.memfd_.get();

  auto sized =
      sys_call({"ftruncate", fd}, [&] { return ::ftruncate(fd, static_cast<off_t>(size)); });
  if (!sized) return std::unexpected(std::move(sized.error()).with_context(op));
  // Sealed before anyone else can see the fd: a peer that could shrink it would make every access
  // past the new end a SIGBUS in our process.
  auto sealed = sys_call({"fcntl(F_ADD_SEALS, F_SEAL_SHRINK|F_SEAL_GROW)", fd},
                         [&] { return ::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW); });
  if (!sealed) return std::unexpected(std::move(sealed.error()).with_context(op));
  // A memfd is created mode 0777, so anyone holding a read-only share could reopen it writable
  // through /proc/<pid>/fd. 0444 closes that to peers running as another user; our own open file
  // description keeps its write access (mmap checks the open mode, not the inode's).
  auto chmodded = sys_call({"fchmod(0444)", fd}, [&] { return ::fchmod(fd, 0444); });
  if (!chmodded) return std::unexpected(std::move(chmodded.error()).with_context(op));

  auto data = map_aligned(size, alignment, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
  if (!data) return std::unexpected(std::move(data.error()).with_context(op));
  region.data_ = *data;
  region.size_ = size;
  if (auto applied = region.apply_options(options, op); !applied) {
    return std::unexpected(applied.error());
  }
  return region;
}

Result<void> Region::apply_options(const RegionOptions& options, const std::string& op) {
  if (options.huge_pages) {
    // Before the first touch: the fault that first populates the range is what allocates the
    // huge page.
    auto advised =
        sys_call("madvise(MADV_HUGEPAGE)", [&] { return ::madvise(data_, size_, MADV_HUGEPAGE); });
    if (!advised) return std::unexpected(std::move(advised.error()).with_context(op));
    huge_pages_ = true;
  }
  if (options.pin) return pin();
  return {};
}

Result<Region> Region::attach(Fd fd, Access access) {
  const std::string op = "Region::attach(fd " + std::to_string(fd.get()) + ", " +
                         (access == Access::read_only ? "read_only" : "read_write") + ")";
  if (!fd) return fail(Errc::invalid_argument, op, "no descriptor");
  const int raw = fd.get();

  // Seals first, size second: once SHRINK and GROW are in place the size we read cannot change.
  const int seals = ::fcntl(raw, F_GET_SEALS);
  if (seals < 0) {
    if (errno == EBADF) return fail_errno(errno, op);
    return fail(Errc::rejected, op,
                std::string("not a memfd (F_GET_SEALS: ") + std::strerror(errno) +
                    "): attach only a descriptor from Region::share()");
  }
  constexpr int kSizeSeals = F_SEAL_SHRINK | F_SEAL_GROW;
  if ((seals & kSizeSeals) != kSizeSeals) {
    return fail(Errc::rejected, op,
                "memfd is not sealed against F_SEAL_SHRINK|F_SEAL_GROW (seals " +
                    std::to_string(seals) +
                    "): a peer could truncate it under us; share it with Region::share()");
  }
  struct stat st {};
  if (auto r = sys_call({"fstat", raw}, [&] { return ::fstat(raw, &st); }); !r) {
    return std::unexpected(std::move(r.error()).with_context(op));
  }
  if (!S_ISREG(st.st_mode) || st.st_size <= 0) {
    return fail(Errc::rejected, op, "memfd is empty: nothing to map");
  }

  int prot = PROT_READ;
  if (access == Access::read_write) {
    const int flags = ::fcntl(raw, F_GETFL);
    if (flags < 0) return fail_errno(errno, op, "fcntl(F_GETFL)");
    if ((flags & O_ACCMODE) == O_RDONLY) {
      return fail(Errc::rejected, op,
                  "descriptor is read-only (a read-only share): attach it with Access::read_only");
    }
    if ((seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) != 0) {
      return fail(Errc::rejected, op,
                  std::string("region is sealed against writes (") +
                      ((seals & F_SEAL_WRITE) != 0 ? "F_SEAL_WRITE" : "F_SEAL_FUTURE_WRITE") +
                      "): attach it with Access::read_only");
    }
    prot |= PROT_WRITE;
  }

  const auto size = static_cast<std::size_t>(st.st_size);
  // A peer's huge-page region is a multiple of 2 MiB; mapping it 2 MiB-aligned lets the kernel
  // map its huge pages whole instead of splitting them into 4 KiB entries.
  const std::size_t alignment = size % kHugePageSize == 0 ? kHugePageSize : page_size();
  auto data = map_aligned(size, alignment, prot, MAP_SHARED, raw);
  if (!data) return std::unexpected(std::move(data.error()).with_context(op));
  Region region;
  region.data_ = *data;
  region.size_ = size;
  region.access_ = access;
  region.memfd_ = std::move(fd);
  return region;
}

Region::Region(Region&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      access_(other.access_),
      pinned_(std::exchange(other.pinned_, false)),
      huge_pages_(std::exchange(other.huge_pages_, false)),
      memfd_(std::move(other.memfd_)) {}

Region& Region::operator=(Region&& other) noexcept {
  if (this != &other) {
    unmap();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    access_ = other.access_;
    pinned_ = std::exchange(other.pinned_, false);
    huge_pages_ = std::exchange(other.huge_pages_, false);
    memfd_ = std::move(other.memfd_);
  }
  return *this;
}

Region::~Region() {
  unmap();
}

void Region::unmap() noexcept {
  // munmap also drops the mlock of a pinned region.
  if (data_ != nullptr) ::munmap(data_, size_);
  data_ = nullptr;
  size_ = 0;
  pinned_ = false;
}

Result<Fd> Region::share(Access access) {
  const std::string op = std::string("Region::share(") +
                         (access == Access::read_only ? "read_only" : "read_write") + ")";
  if (!shared()) {
    return fail(Errc::invalid_argument, op,
                "an anonymous region cannot be shared; create it with Region::create_shared");
  }
  if (access == Access::read_write) {
    if (access_ == Access::read_only) {
      return fail(Errc::rejected, op, "this region is attached read-only");
    }
    const int fd = memfd_.get();
    auto seals = sys_call({"fcntl(F_GET_SEALS)", fd}, [&] { return ::fcntl(fd, F_GET_SEALS); });
    if (!seals) return std::unexpected(std::move(seals.error()).with_context(op));
    if ((*seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) != 0) {
      return fail(Errc::rejected, op,
                  "the region is sealed against new writable mappings (it was shared read-only)");
    }
    auto dup = memfd_.duplicate();
    if (!dup) return std::unexpected(std::move(dup.error()).with_context(op));
    return dup;
  }
  // An O_RDONLY descriptor alone is no boundary: its holder can reopen /proc/<pid>/fd/<n> for
  // writing. The seal is: from now on nobody can map the memory writable, while the mappings that
  // exist (ours) stay writable.
  if (access_ == Access::read_write) {
    if (auto sealed = seal_future_writes(); !sealed) {
      return std::unexpected(std::move(sealed.error()).with_context(op));
    }
  }
  // A new open file description, read-only: a dup would share our O_RDWR mode.
  auto reopened = Fd::open("/proc/self/fd/" + std::to_string(memfd_.get()), O_RDONLY);
  if (!reopened) return std::unexpected(std::move(reopened.error()).with_context(op));
  return reopened;
}

Result<void> Region::seal_future_writes() {
  const std::string op = "Region::seal_future_writes";
  if (!shared()) return fail(Errc::invalid_argument, op, "an anonymous region has no seals");
  const int fd = memfd_.get();
  auto sealed = sys_call({"fcntl(F_ADD_SEALS, F_SEAL_FUTURE_WRITE)", fd},
                         [&] { return ::fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE); });
  if (!sealed) return std::unexpected(std::move(sealed.error()).with_context(op));
  return {};
}

}  // namespace zc
