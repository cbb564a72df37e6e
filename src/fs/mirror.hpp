// src/fs/mirror.hpp: the state behind the FUSE callbacks, and helpers they share.
//
// One Mirror serves one mount. libfuse passes it to every callback as the session's userdata;
// the callbacks (mirror_*.cpp) reach it through mirror_of(req).
//
// Synchronization: the callbacks run on any worker thread. The inode table and device hooks
// synchronize themselves; the mode and the counters are atomics; fallback_reason_ is guarded
// by reason_mutex_.
#pragma once

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <sys/stat.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "device_hooks.hpp"
#include "inode_table.hpp"
#include "open_handles.hpp"
#include "zcopy/core/error.hpp"
#include "zcopy/fs/mount.hpp"

namespace zc::fs {

// An open regular file: our own descriptor, and whether the kernel serves it by passthrough.
struct FileHandle {
  Fd fd;
  Inode* inode = nullptr;
  bool passthrough = false;
};

class Mirror {
 public:
  Mirror(Fd root_fd, const struct stat& root_stat, MountMode requested, double cache_seconds,
         std::uint32_t stack_depth, InodeTable::Options table = {});

  static const fuse_lowlevel_ops& operations();

  InodeTable& inodes() noexcept { return inodes_; }
  DeviceHooks& device() noexcept { return device_; }
  // Every file handle the kernel holds; what it never released is freed with the mirror.
  OpenHandles<FileHandle>& files() noexcept { return files_; }
  double cache_seconds() const noexcept { return cache_seconds_; }
  MountMode requested_mode() const noexcept { return requested_; }
  std::uint32_t stack_depth() const noexcept { return stack_depth_; }

  MountMode mode() const noexcept { return mode_.load(std::memory_order_relaxed); }
  // Settles the mode; `reason` says why auto did not get passthrough.
  void set_mode(MountMode mode, std::string reason = {});
  std::string fallback_reason() const;

  int device_fd() const noexcept { return device_fd_.load(std::memory_order_relaxed); }
  void set_device_fd(int fd) noexcept { device_fd_.store(fd, std::memory_order_relaxed); }

  MountStats stats() const noexcept;

  // A line for MountOptions::log (from any thread).
  void note(std::string_view line) const;
  // The same, the first time only: `once` is the flag that remembers.
  void note_once(std::atomic<bool>& once, std::string_view line) const;
  std::atomic<bool> noted_passthrough_refusal{false};

  // Counters (relaxed: they are statistics, nothing is ordered by them).
  std::atomic<std::uint64_t> reads{0};
  std::atomic<std::uint64_t> read_bytes{0};
  std::atomic<std::uint64_t> writes{0};
  std::atomic<std::uint64_t> write_bytes{0};
  std::atomic<std::uint64_t> passthrough_opens{0};
  std::atomic<std::uint64_t> backing_files{0};
  std::atomic<std::uint64_t> passthrough_refusals{0};
  // One more request of `operation` answered (MountStats::by_operation).
  void count(MountOperation operation) noexcept {
    by_operation_[static_cast<std::size_t>(operation)].fetch_add(1, std::memory_order_relaxed);
  }

 private:
  const SourceDevices::Log log_;  // before inodes_, which gets a copy
  InodeTable inodes_;
  OpenHandles<FileHandle> files_;  // after inodes_: a handle points at its inode
  DeviceHooks device_;
  const MountMode requested_;
  const double cache_seconds_;
  const std::uint32_t stack_depth_;
  std::atomic<MountMode> mode_;
  std::atomic<int> device_fd_{-1};
  mutable std::mutex reason_mutex_;
  std::string fallback_reason_;  // protected by reason_mutex_
  std::array<std::atomic<std::uint64_t>, kMountOperations> by_operation_{};
};

inline FileHandle& file_of(const struct fuse_file_info* fi) {
  return handle_at<FileHandle>(fi->fh);
}

inline Mirror& mirror_of(fuse_req_t req) {
  return *static_cast<Mirror*>(fuse_req_userdata(req));
}

// How a name from the kernel is treated. Names never contain '/', but the daemon checks anyway.
// The kernel passes names of up to 1024 bytes; past NAME_MAX they are too long, as on ext4.
enum class NameKind { plain, dot, dot_dot, too_long, invalid };
NameKind classify_name(std::string_view name) noexcept;
// The errno for a name that cannot be used: ENAMETOOLONG for a long one, EINVAL otherwise.
int unusable_name_errno(NameKind kind) noexcept;

// "/proc/self/fd/N": reaches the inode an O_PATH descriptor holds, never a path by name.
std::string fd_path(int fd);

// Replies with the errno behind `error` (EIO when it has none).
void reply_error(fuse_req_t req, const Error& error);

// Worker threads get their own umask of 0 (unshare(CLONE_FS)): the kernel already applied the
// caller's umask to the modes it sends, and the daemon must not apply its own on top.
void prepare_worker_thread() noexcept;

// Looks `name` up under `parent`, adding one kernel lookup to the inode found. `absent` (when
// given) is set when the name does not exist in a directory still beneath SRC: only then may
// the kernel remember its absence.
Result<fuse_entry_param> lookup_entry(Mirror& mirror, Inode& parent, const char* name,
                                      bool* absent = nullptr);
// The same under a directory descriptor already checked (a listing's); `name` is a plain name.
Result<fuse_entry_param> lookup_in(Mirror& mirror, int parent_fd, const char* name);
// lookup_in() without opening the entry where the inode table can hold it by a handle taken by
// name (InodeTable::remember_listed): a listed or looked-up name is seldom used again soon, and
// a descriptor held on a file makes its unlink dearer (ext4 keeps an unlinked inode that is still
// open on its orphan list until the last close). What was just created is opened (lookup_in):
// tar sets its owner, mode and times next.
Result<fuse_entry_param> lookup_unopened(Mirror& mirror, int parent_fd, const char* name);
// The entry for the inode `path` (an O_PATH descriptor) holds, adding one kernel lookup to it.
// `plain_name`: reached by a name other than `.` and `..` (see InodeTable::remember).
Result<fuse_entry_param> remember_entry(Mirror& mirror, Fd path, bool plain_name = true);
// The reply to a lookup of `inode`, whose stat is `st` (one kernel lookup already added).
fuse_entry_param entry_of(Mirror& mirror, const Inode& inode, const struct stat& st);

// stat of the inode itself (never following a symlink), with the inode number the mount shows.
Result<struct stat> stat_inode(Mirror& mirror, Inode& inode);
// The same through a descriptor of it already at hand.
Result<struct stat> stat_inode(const Inode& inode, int fd);

// The callbacks, by file.
namespace ops {
// mirror_entries.cpp
void lookup(fuse_req_t req, fuse_ino_t parent, const char* name);
void forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup);
void forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data* forgets);
void getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi);
void setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set,
             struct fuse_file_info* fi);
void readlink(fuse_req_t req, fuse_ino_t ino);
void statfs(fuse_req_t req, fuse_ino_t ino);
// mirror_namespace.cpp
void mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev);
void mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode);
void symlink(fuse_req_t req, const char* link, fuse_ino_t parent, const char* name);
void unlink(fuse_req_t req, fuse_ino_t parent, const char* name);
void rmdir(fuse_req_t req, fuse_ino_t parent, const char* name);
void rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent,
            const char* newname, unsigned int flags);
void link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char* newname);
// mirror_files.cpp
void open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi);
void create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
            struct fuse_file_info* fi);
void release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi);
void flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi);
void fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info* fi);
// mirror_io.cpp
void read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info* fi);
void write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec* bufv, off_t off,
               struct fuse_file_info* fi);
void fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
               struct fuse_file_info* fi);
void copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in, struct fuse_file_info* fi_in,
                     fuse_ino_t ino_out, off_t off_out, struct fuse_file_info* fi_out, size_t len,
                     int flags);
void lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence, struct fuse_file_info* fi);
// mirror_dirs.cpp
void opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi);
void readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info* fi);
void readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info* fi);
void releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi);
void fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info* fi);
// mirror_xattrs.cpp
void setxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size,
              int flags);
void getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size);
void listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void removexattr(fuse_req_t req, fuse_ino_t ino, const char* name);
}  // namespace ops

}  // namespace zc::fs
