// src/fs/inode_table.hpp: the inodes the kernel knows about.
//
// The FUSE node id of an inode is its address (the root is FUSE_ROOT_ID); `generation` tells
// apart two inodes that came to live at one address. An inode lives while the kernel holds
// lookups on it: remember() adds one, forget() removes some, and at zero it goes away. Two names
// for one file (hard links) share an inode, keyed by (st_dev, st_ino) of the source.
//
// An inode costs no descriptor at rest: it keeps a file handle, and descriptor() reopens it on
// demand through a bounded LRU of open O_PATH descriptors (descriptor_cache.hpp). Where the file
// system cannot export handles (or the daemon may not open them) the inode holds one O_PATH
// descriptor for life instead, opened relative to its parent with O_NOFOLLOW. Either way only
// inodes found by name beneath SRC are ever held, and directory() refuses a directory that has
// been moved out from under SRC since.
//
// A (st_dev, st_ino) seen again is checked to still be the same file (same handle, or a held
// descriptor that still stats): network and FUSE sources reuse inode numbers, and the new file
// then gets a new inode while the old one stays ESTALE for whoever still holds it.
//
// When the process runs out of descriptors, with_room() closes the idle cached ones and tries
// once more; if that does not help, the one operation fails with EMFILE and the mount goes on.
//
// Synchronization: all members may be called from any worker thread. `mutex_` protects the maps
// and every Inode::lookups; the descriptor cache has its own lock for the descriptor fields;
// backing_lock() guards the backing fields. No lock is held while another is acquired, and no
// descriptor is closed under any of them.
#pragma once

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <sys/stat.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "descriptor_cache.hpp"
#include "inode_handle.hpp"
#include "source_devices.hpp"
#include "zcopy/core/error.hpp"
#include "zcopy/core/fd.hpp"

namespace zc::fs {

struct Inode {
  // Fixed at creation.
  dev_t dev = 0;
  ino_t ino = 0;
  std::uint64_t shown_ino = 0;  // what stat shows through the mount
  std::uint64_t generation = 0;
  SourceDevice* device = nullptr;
  InodeHandle handle;  // empty: `fd` is held for the inode's life
  mode_t type = 0;     // S_IFMT bits

  std::uint64_t lookups = 0;  // protected by InodeTable::mutex_

  // O_PATH. With a handle: cached, protected by the DescriptorCache's mutex. Without: fixed.
  int fd = -1;
  std::uint32_t pins = 0;     // by the DescriptorCache's mutex
  bool doomed = false;        // forgotten while pinned; by the DescriptorCache's mutex
  Inode* lru_prev = nullptr;  // by the DescriptorCache's mutex
  Inode* lru_next = nullptr;  // by the DescriptorCache's mutex

  // FUSE passthrough: the kernel wants one backing file per inode while any passthrough open
  // of it exists, so the id is shared by those opens and closed with the last of them.
  std::int32_t backing_id = 0;       // protected by InodeTable::backing_lock()
  std::uint32_t backing_users = 0;   // protected by InodeTable::backing_lock()
  bool passthrough_refused = false;  // the kernel refused a backing file for it; by the same

  Inode() = default;
  Inode(const Inode&) = delete;
  Inode& operator=(const Inode&) = delete;
  ~Inode();  // closes a held descriptor
};

// A pinned descriptor of an inode, for the length of one operation.
class InodeFd {
 public:
  InodeFd() noexcept = default;
  InodeFd(DescriptorCache* cache, Inode* inode, int fd) noexcept
      : cache_(cache), inode_(inode), fd_(fd) {}
  InodeFd(InodeFd&& other) noexcept
      : cache_(std::exchange(other.cache_, nullptr)), inode_(other.inode_), fd_(other.fd_) {}
  InodeFd& operator=(InodeFd&&) = delete;
  InodeFd(const InodeFd&) = delete;
  ~InodeFd() {
    if (cache_ != nullptr) cache_->unpin(*inode_);
  }
  int get() const noexcept { return fd_; }

 private:
  DescriptorCache* cache_ = nullptr;
  Inode* inode_ = nullptr;
  int fd_ = -1;
};

class InodeTable {
 public:
  struct Options {
    std::size_t descriptor_capacity = 1024;
    SourceDevices::Log log{};
  };

  // `root_fd` is SRC, an O_PATH descriptor.
  InodeTable(Fd root_fd, const struct stat& root_stat, Options options);
  ~InodeTable();

  Inode& root() noexcept { return root_; }
  Inode& get(fuse_ino_t id) noexcept;
  fuse_ino_t id_of(const Inode& inode) const noexcept;

  // The inode `fd` (an O_PATH descriptor just opened beneath SRC; `st` is its fstat) holds, with
  // one more lookup. SRC itself reached by `.` or `..` is the root; by a plain name (a bind mount
  // of SRC inside SRC) it is a node of its own, as the kernel allows no second name for one
  // directory node.
  Result<Inode*> remember(Fd fd, const struct stat& st, bool plain_name);
  // The same for `name` under the directory `dir_fd` (a plain name; `st` is its lstat), without
  // opening it: its handle is taken by name and shown to be of the file `st` describes by the
  // inode number it carries. nullptr when that cannot be shown or would not do (anything
  // reached through another mount than SRC's, bind mounts of its own file system included, as
  // their handles reopen through SRC's mount at the path they have there; a file system held by
  // descriptors; a handle layout without the number; a name replaced in between): the caller
  // then opens the name and calls remember().
  Result<Inode*> remember_listed(int dir_fd, const char* name, const struct stat& st);
  // Drops `count` lookups; frees the inode at zero. The root is never freed.
  void forget(Inode& inode, std::uint64_t count);

  // A descriptor of `inode`, pinned while the result lives.
  Result<InodeFd> descriptor(Inode& inode);
  // The same for a directory whose names are about to be used: fails with ENOENT when it is no
  // longer beneath SRC (moved out behind the mount's back).
  Result<InodeFd> directory(Inode& dir);

  // Runs `open`, which returns a Result holding a new descriptor; when that fails for want of
  // descriptors, closes the idle cached ones and runs it once more.
  template <class Open>
  auto with_room(Open&& open) -> decltype(open()) {
    auto result = open();
    if (!result && (result.error().sys_errno() == EMFILE || result.error().sys_errno() == ENFILE) &&
        descriptors_.shed() > 0) {
      result = open();
    }
    return result;
  }

  std::mutex& backing_lock(const Inode& inode) noexcept;
  SourceDevices& devices() noexcept { return devices_; }
  DescriptorCache& descriptors() noexcept { return descriptors_; }
  const DescriptorCache& descriptors() const noexcept { return descriptors_; }

  std::size_t size() const;  // inodes the kernel knows, the root aside

 private:
  using Key = std::pair<dev_t, ino_t>;
  struct KeyHash {
    std::size_t operator()(const Key& key) const noexcept {
      return std::hash<std::uint64_t>{}(key.second * 0x9E3779B97F4A7C15ULL ^ key.first);
    }
  };

  // remember() and remember_listed() once the handle is known; `fd` may be empty when `handle`
  // is not.
  Result<Inode*> adopt(Fd fd, const struct stat& st, SourceDevice& device, InodeHandle handle);
  // Whether `existing` is still the file a new lookup found (described by `st`, `handle`).
  static bool same_file(const Inode& existing, const struct stat& st, const InodeHandle& handle);
  std::unique_ptr<Inode> make_inode(const struct stat& st, SourceDevice& device,
                                    InodeHandle handle);
  // Frees an inode the maps no longer hold.
  void destroy(std::unique_ptr<Inode> inode);
  // Whether the directory `fd` holds is SRC or beneath it.
  bool beneath_source(int fd);

  Inode root_;
  SourceDevices devices_;
  DescriptorCache descriptors_;
  std::array<std::mutex, 64> backing_locks_;
  int root_mount_id_ = -1;  // the mount SRC is reached through (name_to_handle_at's id)
  std::atomic<std::uint64_t> generations_{0};
  std::atomic<std::uint64_t> own_numbers_{0};  // for inode numbers that cannot be shown as they are

  mutable std::mutex mutex_;
  std::unordered_map<Key, std::unique_ptr<Inode>, KeyHash> inodes_;  // protected by mutex_
  // Inodes whose (st_dev, st_ino) a newer file took while the kernel still holds them.
  std::unordered_map<const Inode*, std::unique_ptr<Inode>> replaced_;  // protected by mutex_

  std::mutex root_path_mutex_;
  std::string root_path_;  // SRC's path as the kernel spells it; protected by root_path_mutex_
};

}  // namespace zc::fs
