// src/fs/descriptor_cache.hpp: a bounded set of open O_PATH descriptors for inodes held by file
// handle, least recently used closed first.
//
// Inodes that hold their descriptor for life (no handle) are pinned too, never listed, so that
// an inode the kernel forgets is freed only once no operation uses it.
//
// An inode held by handle needs a descriptor only while an operation uses it. The cache keeps
// the descriptors of recently used inodes open, so hot inodes cost no open_by_handle_at, and
// closes the oldest beyond `capacity`. A descriptor in use is pinned: it leaves the LRU list
// until its last user unpins it, so it is never closed under an operation.
//
//   if (int fd = cache.pin(inode); fd >= 0) { ...use fd...; cache.unpin(inode); }
//   else { Fd opened = ...; int fd = cache.install_pinned(inode, std::move(opened)); ... }
//
// Descriptors are closed after the lock is dropped: closing the last reference to a large
// unlinked file frees its blocks, and nobody else should wait for that.
//
// Synchronization: every member may be called from any thread; `mutex_` protects the list and
// the descriptor fields of every Inode (fd, pins, lru_prev, lru_next).
#pragma once

#include <cstddef>
#include <mutex>

#include "zcopy/core/fd.hpp"

namespace zc::fs {

struct Inode;

class DescriptorCache {
 public:
  explicit DescriptorCache(std::size_t capacity) noexcept : capacity_(capacity) {}
  DescriptorCache(const DescriptorCache&) = delete;
  DescriptorCache& operator=(const DescriptorCache&) = delete;

  // The inode's descriptor, pinned; -1 (nothing pinned) when it has none open.
  int pin(Inode& inode);
  // Gives the inode `fd` unless another thread did meanwhile, and pins whichever it keeps.
  int install_pinned(Inode& inode, Fd fd);
  // Gives the inode `fd` unpinned (a lookup's descriptor, likely wanted soon).
  void install(Inode& inode, Fd fd);
  // Undoes one pin; the last one puts the descriptor at the head of the list, or frees an
  // inode drop() found in use.
  void unpin(Inode& inode);
  // For an inode being destroyed: closes its cached descriptor and returns true when the caller
  // may free it now; false when an operation still has it pinned (the kernel may forget an
  // inode as soon as it has a reply, before the thread that sent it is done with it), in which
  // case the last unpin frees it.
  [[nodiscard]] bool drop(Inode& inode);
  // Closes every descriptor not in use, when the process ran out of them. Returns how many.
  std::size_t shed();

  std::size_t cached() const;  // descriptors open and not pinned
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  // All under mutex_.
  void link_front(Inode& inode) noexcept;
  void unlink(Inode& inode) noexcept;
  // Takes descriptors off the tail beyond `keep`; they go to `closing` (up to `room`).
  std::size_t trim(std::size_t keep, int* closing, std::size_t room) noexcept;

  const std::size_t capacity_;
  mutable std::mutex mutex_;
  Inode* head_ = nullptr;  // most recently used; protected by mutex_
  Inode* tail_ = nullptr;  // protected by mutex_
  std::size_t count_ = 0;  // inodes on the list; protected by mutex_
};

}  // namespace zc::fs
