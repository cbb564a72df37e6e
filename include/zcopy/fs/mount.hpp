// zcopy/fs/mount.hpp: a FUSE filesystem that mirrors a directory without copying file data
// through the daemon.
//
// A Mount serves SRC at MNT from a pool of libfuse worker threads. How file data moves depends
// on the mode:
//
//   passthrough  the kernel reads and writes the backing file itself (FUSE passthrough, Linux
//                >= 6.9, CAP_SYS_ADMIN); the daemon only answers metadata requests
//   splice       reads go file -> pipe -> /dev/fuse and writes /dev/fuse -> pipe -> file
//   copy         pread/pwrite through a buffer in the daemon: the baseline
//   auto         passthrough when the kernel grants it, otherwise splice (reason in
//                fallback_reason())
//
//   zc::Result<zc::fs::Mount> m = zc::fs::Mount::start("/srv/data", "/mnt/data", {});
//   if (!m) return m.error();
//   ... use /mnt/data ...
//   m->stop();                       // or let the destructor unmount
//
// Nothing outside SRC is reachable through the daemon: every inode is found by name relative to
// its parent with O_NOFOLLOW and then held by file handle (or, where handles are unavailable, by
// an O_PATH descriptor), a directory moved out of SRC answers ENOENT, symlinks are returned as
// links, and `..` at the root is the root. An inode at rest costs no descriptor: a bounded cache
// keeps the recently used ones open, and start() raises the soft open-file limit to the hard one.
// With allow_other, what another user creates is created with that user's file system ids, so it is
// theirs from birth and nothing is chowned afterwards; a create never follows a symlink planted in
// SRC and opens a file that appeared there meanwhile only if the caller may.
//
// Synchronization: start(), stop(), wait() and the destructor are for one owning thread;
// active_mode(), fallback_reason(), running() and stats() may be called from any thread.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "zcopy/core/error.hpp"
#include "zcopy/fs/transport.hpp"

namespace zc::fs {

enum class MountMode : std::uint8_t { auto_select, passthrough, splice, copy };

std::string_view to_string(MountMode mode) noexcept;
// "auto", "passthrough", "splice" or "copy"; nullopt for anything else.
std::optional<MountMode> mount_mode_from_name(std::string_view text) noexcept;

struct MountOptions {
  MountMode mode = MountMode::auto_select;
  bool allow_other = false;  // other users may use the mount (kernel permission checks apply)
  unsigned max_threads = 8;  // libfuse worker threads
  // How long the kernel may trust names, absent names, attributes and listings without asking. The
  // mount sees its own changes at once; changes made in SRC directly show after at most this long.
  double cache_seconds = 1;
  bool debug = false;  // libfuse request trace on stderr
  // How requests travel (transport.hpp): auto takes FUSE over io_uring where the kernel allows
  // it; uring fails with Errc::capability_missing where it does not.
  MountTransport transport = MountTransport::auto_select;
  // Where the daemon says, once each, what it could not do as asked (a file system whose inodes
  // must be held by descriptors, a file served without passthrough). Lines go to stderr when
  // this is empty. Called from worker threads.
  std::function<void(std::string_view)> log{};
};

// The FUSE requests the daemon answers, each counted on its own (MountStats::by_operation).
// forget counts FORGET and BATCH_FORGET; write counts WRITE.
enum class MountOperation : std::uint8_t {
  lookup,
  forget,
  getattr,
  setattr,
  readlink,
  statfs,
  mknod,
  mkdir,
  symlink,
  unlink,
  rmdir,
  rename,
  link,
  open,
  create,
  release,
  flush,
  fsync,
  read,
  write,
  fallocate,
  copy_file_range,
  lseek,
  opendir,
  readdir,
  readdirplus,
  releasedir,
  fsyncdir,
  setxattr,
  getxattr,
  listxattr,
  removexattr,
};
inline constexpr std::size_t kMountOperations =
    static_cast<std::size_t>(MountOperation::removexattr) + 1;
// The request's name in upper case, as the kernel's protocol spells it ("LOOKUP", "GETXATTR").
std::string_view to_string(MountOperation operation) noexcept;

// Counters of the work the daemon did, for tests and benchmarks.
struct MountStats {
  std::uint64_t reads = 0;  // READ requests answered by the daemon
  std::uint64_t read_bytes = 0;
  std::uint64_t writes = 0;  // WRITE requests answered by the daemon
  std::uint64_t write_bytes = 0;
  std::uint64_t passthrough_opens = 0;  // opens answered with FOPEN_PASSTHROUGH
  std::uint64_t backing_files = 0;      // backing ids registered right now
  // Opens the daemon served itself in passthrough mode because the kernel refused the file a
  // backing id (one on a stacked file system inside SRC); only that inode is served this way.
  std::uint64_t passthrough_refusals = 0;
  std::uint64_t requests = 0;        // requests the kernel sent the daemon so far
  std::uint64_t uring_requests = 0;  // of which through io_uring
  // Requests answered so far, by operation (indexed by MountOperation). Requests libfuse answers
  // itself (INIT, INTERRUPT, those the mirror does not implement) are counted in `requests` only.
  std::array<std::uint64_t, kMountOperations> by_operation{};
  std::uint64_t inodes = 0;              // inodes the kernel knows right now, the root aside
  std::uint64_t cached_descriptors = 0;  // idle inode descriptors kept open right now
};

class Mount {
 public:
  // Mounts `source` (a directory) at `mountpoint` (an existing directory) and starts serving.
  // Returns once the kernel's INIT has been answered, so active_mode() is final. A passthrough
  // mode the kernel refuses fails with Errc::capability_missing; auto falls back to splice.
  static Result<Mount> start(const std::string& source, const std::string& mountpoint,
                             const MountOptions& options);

  Mount(Mount&&) noexcept;
  Mount& operator=(Mount&&) noexcept;
  Mount(const Mount&) = delete;
  Mount& operator=(const Mount&) = delete;
  ~Mount();  // stop()

  MountMode active_mode() const noexcept;
  // Why auto did not get passthrough (empty otherwise).
  std::string fallback_reason() const;
  // The transport requests travel by (uring or dev), and why not io_uring when auto fell back.
  MountTransport transport() const noexcept;
  std::string transport_reason() const;
  // False once the kernel connection ended (unmounted from outside, or stop()).
  bool running() const noexcept;
  MountStats stats() const noexcept;

  // Waits up to `timeout` for the connection to end; true when it has.
  bool wait(std::chrono::milliseconds timeout) const;
  // Unmounts (lazily if busy), ends the worker threads and frees the session. Idempotent.
  Result<void> stop();

  struct State;

 private:
  explicit Mount(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// Which capabilities a mount's worker threads keep and why the others go, in one line (for
// `zcopy doctor`).
std::string describe_worker_privileges();

// Unmounts `mountpoint`, also when its daemon is dead and the mount answers ENOTCONN; falls back
// to a lazy detach when it is busy.
Result<void> unmount(const std::string& mountpoint);

}  // namespace zc::fs
