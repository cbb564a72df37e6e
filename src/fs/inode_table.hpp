// src/fs/inode_table.hpp: the inodes the kernel knows about, each owning an O_PATH descriptor.
//
// The FUSE node id of an inode is its address (the root is FUSE_ROOT_ID). An inode lives while
// the kernel holds lookups on it: lookup() adds one, forget() removes some, and at zero the
// inode and its descriptor go away. Two names for one file (hard links) share an inode, keyed
// by (st_dev, st_ino) of the source.
//
// Synchronization: all members may be called from any worker thread. `mutex_` protects the map
// and every Inode::lookups; Inode::backing_mutex protects the backing fields and is never held
// while acquiring `mutex_`.
#pragma once

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <sys/stat.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <utility>

#include "zcopy/core/fd.hpp"

namespace zc::fs {

struct Inode {
  Fd fd;  // O_PATH, reached from the parent with O_NOFOLLOW: never a path outside SRC
  dev_t dev = 0;
  ino_t ino = 0;
  mode_t type = 0;            // S_IFMT bits; fixed for the life of the inode
  std::uint64_t lookups = 0;  // protected by InodeTable::mutex_

  // FUSE passthrough: the kernel wants one backing file per inode while any passthrough open
  // of it exists, so the id is shared by those opens and closed with the last of them.
  std::mutex backing_mutex;
  std::int32_t backing_id = 0;      // protected by backing_mutex
  std::uint32_t backing_users = 0;  // protected by backing_mutex
};

class InodeTable {
 public:
  explicit InodeTable(Fd root_fd, const struct stat& root_stat);

  Inode& root() noexcept { return root_; }
  Inode& get(fuse_ino_t id) noexcept;
  fuse_ino_t id_of(Inode& inode) const noexcept;

  // The inode for (st.st_dev, st.st_ino) with one more lookup. Adopts `fd` when the inode is new
  // and closes it otherwise.
  Inode& remember(Fd fd, const struct stat& st);
  // Drops `count` lookups; frees the inode at zero. The root is never freed.
  void forget(Inode& inode, std::uint64_t count);

  std::size_t size() const;

 private:
  Inode root_;
  mutable std::mutex mutex_;
  std::map<std::pair<dev_t, ino_t>, std::unique_ptr<Inode>> inodes_;  // protected by mutex_
};

}  // namespace zc::fs
