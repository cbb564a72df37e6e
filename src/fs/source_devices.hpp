// src/fs/source_devices.hpp: the file systems found under SRC (SRC's own and any mounted inside
// it), and what the mirror learned about each the first time it met one of its inodes.
//
// Per file system:
//   - an index, which keeps inode numbers of different file systems apart on the one st_dev the
//     mount shows (shown_ino());
//   - whether its inodes are held by file handle (reopened on demand from `mount_fd`) or, where
//     it cannot export handles or the daemon lacks CAP_DAC_READ_SEARCH, by an O_PATH descriptor
//     per inode (said once through the mount's log);
//   - whether closing a file on it can report an error (NFS and FUSE report lost writes at
//     close; ext4, xfs, btrfs and tmpfs never do), which decides whether FLUSH is worth asking.
//
// Synchronization: of() may be called from any thread. A SourceDevice is immutable once of()
// returned it, and lives as long as the table.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "zcopy/core/fd.hpp"

namespace zc::fs {

struct SourceDevice {
  dev_t dev = 0;
  std::uint32_t index = 0;  // 0 for SRC's own file system
  Fd mount_fd;              // a directory on it, open for reading (what open_by_handle_at needs)
  bool handles = false;     // its inodes are held by file handle
  bool close_reports_errors = true;

  // The st_ino the mount shows for `ino` on this file system: SRC's own numbers unchanged, the
  // others' moved above 2^48 by their index. 0 when `ino` is too large to keep apart that way
  // (2^48 and above); such inodes get a number of their own while the kernel knows them.
  std::uint64_t shown_ino(std::uint64_t ino) const noexcept;
};

class SourceDevices {
 public:
  using Log = std::function<void(std::string_view)>;

  // `root_fd` is SRC (an O_PATH descriptor), `log` where a fallback is reported.
  SourceDevices(int root_fd, const struct stat& root_stat, Log log);

  SourceDevice& root() noexcept { return *root_; }
  // The device of `st`; on first sight it is examined through `fd`, the O_PATH descriptor of the
  // inode `st` describes.
  SourceDevice& of(const struct stat& st, int fd);

 private:
  std::unique_ptr<SourceDevice> examine(const struct stat& st, int fd, std::uint32_t index);

  Log log_;
  SourceDevice* root_ = nullptr;  // devices_[0]; set before any other thread runs
  std::mutex mutex_;
  std::vector<std::unique_ptr<SourceDevice>> devices_;  // protected by mutex_
};

}  // namespace zc::fs
