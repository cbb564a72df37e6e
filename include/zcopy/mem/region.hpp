// zcopy/mem/region.hpp: a mapping of memory that can be shared between processes and pinned.
//
// A Region is either anonymous (private to this process) or backed by a memfd that another process
// can map with attach(). Shared regions are sealed against shrinking and growing as soon as they
// are created, so a peer can never truncate the memory under us and make us take SIGBUS; attach()
// refuses an fd that lacks those seals. (A peer holding a writable descriptor can still punch
// holes with fallocate, which reads back as zeros: a data problem, never a crash.)
//
//   // Producer
//   auto region = zc::Region::create_shared(64 * zc::kMiB, {.name = "frames"});
//   auto fd = region->share(zc::Access::read_only);    // pass over a Unix socket (fd_passing.hpp)
//   // Consumer, in another process
//   auto view = zc::Region::attach(std::move(received_fd), zc::Access::read_only);
//   // view->bytes() sees the producer's writes; writing to it is refused by the kernel.
//
// Sharing. share(read_write) gives a descriptor that maps writable, for trusted peers.
// share(read_only) is enforced by the kernel against any peer, even one of the same user: it
// seals the memfd with F_SEAL_FUTURE_WRITE (an O_RDONLY descriptor alone is not enough, since its
// holder could reopen /proc/<pid>/fd/<n> for writing), so from then on nobody can make a new
// writable mapping, while the mappings that already exist (ours) stay writable. Share read-write
// first if some peers must write; after a read-only share, share(read_write) is refused.

// Pinning. pin() locks the pages in RAM and pre-faults them, so that touching the memory later
// never takes a page fault: no fault latency on the data path. It fails with a clear error when
// RLIMIT_MEMLOCK forbids it and CAP_IPC_LOCK is absent.
//
// Synchronization: a Region is not internally synchronized; the bytes it maps are shared memory
// whose ordering is the user's business (see zcopy/ring for the lock-free protocols).
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "zcopy/core/error.hpp"
#include "zcopy/core/fd.hpp"

namespace zc {

enum class Access { read_only, read_write };

struct RegionOptions {
  // Shown in /proc/<pid>/maps and /proc/<pid>/fd for memfd-backed regions.
  std::string name = "zcopy";
  // Back the region with transparent huge pages (2 MiB): the size is rounded up to 2 MiB and the
  // mapping aligned. Fails with Errc::capability_missing when THP is disabled for this kind of
  // memory (anonymous or shmem), naming the sysfs setting.
  bool huge_pages = false;
  // Pin (lock and pre-fault) the region right after creating it.
  bool pin = false;
};

class Region {
 public:
  static constexpr std::size_t kHugePageSize = std::size_t{2} * 1024 * 1024;

  // Private anonymous memory: visible to this process (and copy-on-write to forked children).
  static Result<Region> create_anonymous(std::size_t size, const RegionOptions& options = {});
  // memfd-backed memory, sealed against shrink and grow, shareable with share(). The memfd's mode
  // is 0444, so a peer running as another user cannot reopen a read-only share for writing.
  static Result<Region> create_shared(std::size_t size, const RegionOptions& options = {});
  // Maps a peer's shared region. Refuses an fd that is not a sealed memfd (Errc::rejected) and
  // a read-write attach of a read-only descriptor or of a region sealed against writes.
  static Result<Region> attach(Fd fd, Access access);

  Region(Region&& other) noexcept;
  Region& operator=(Region&& other) noexcept;
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;
  ~Region();

  // A new descriptor for another process to attach() with. Only for shared regions. read_only
  // seals the region against new writable mappings first (see Sharing above); read_write is
  // refused (Errc::rejected) on a region attached read-only or already sealed that way.
  Result<Fd> share(Access access);
  // F_SEAL_FUTURE_WRITE: from now on nobody can map the memory writable; our own mapping stays so.
  Result<void> seal_future_writes();

  // Locks the pages in RAM (mlock) and faults them all in (MADV_POPULATE_WRITE, or _READ for a
  // read-only region). Idempotent.
  Result<void> pin();
  Result<void> unpin();
  bool pinned() const noexcept { return pinned_; }

  std::span<std::byte> bytes() noexcept { return {data_, size_}; }
  std::span<const std::byte> bytes() const noexcept { return {data_, size_}; }
  std::byte* data() noexcept { return data_; }
  const std::byte* data() const noexcept { return data_; }
  // Bytes mapped: the size asked for, rounded up to a page (to 2 MiB with huge_pages).
  std::size_t size() const noexcept { return size_; }
  Access access() const noexcept { return access_; }
  bool shared() const noexcept { return memfd_.valid(); }
  bool huge_pages() const noexcept { return huge_pages_; }
  // The memfd behind a shared region (borrowed), or -1.
  int fd() const noexcept { return memfd_.get(); }

 private:
  Region() = default;
  // The huge-page advice and pinning both factories apply once the memory is mapped.
  Result<void> apply_options(const RegionOptions& options, const std::string& op);
  void unmap() noexcept;

  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  Access access_ = Access::read_write;
  bool pinned_ = false;
  bool huge_pages_ = false;
  Fd memfd_;
};

}  // namespace zc
