// The descriptor LRU: an intrusive list through the inodes whose descriptors are open and idle.
#include "descriptor_cache.hpp"

#include <unistd.h>

#include <utility>
#include <vector>

#include "inode_table.hpp"

namespace zc::fs {
namespace {

// Closes what was taken off the list, outside the lock.
void close_all(const int* fds, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) ::close(fds[i]);
}

constexpr std::size_t kTrimBatch = 16;  // descriptors closed per install beyond capacity

}  // namespace

int DescriptorCache::pin(Inode& inode) {
  const std::lock_guard lock(mutex_);
  if (inode.fd < 0) return -1;
  if (inode.pins++ == 0 && !inode.handle.empty()) unlink(inode);
  return inode.fd;
}

int DescriptorCache::install_pinned(Inode& inode, Fd fd) {
  int surplus[kTrimBatch + 1];
  std::size_t closing = 0;
  int kept = -1;
  {
    const std::lock_guard lock(mutex_);
    if (inode.fd >= 0) {
      surplus[closing++] = fd.release();  // another thread opened it first: use theirs
      if (inode.pins++ == 0) unlink(inode);
    } else {
      inode.fd = fd.release();
      inode.pins = 1;
    }
    kept = inode.fd;
    closing += trim(capacity_, surplus + closing, kTrimBatch);
  }
  close_all(surplus, closing);
  return kept;
}

void DescriptorCache::install(Inode& inode, Fd fd) {
  int surplus[kTrimBatch + 1];
  std::size_t closing = 0;
  {
    const std::lock_guard lock(mutex_);
    if (inode.fd >= 0) {
      surplus[closing++] = fd.release();
    } else {
      inode.fd = fd.release();
      if (inode.pins == 0) link_front(inode);
    }
    closing += trim(capacity_, surplus + closing, kTrimBatch);
  }
  close_all(surplus, closing);
}

void DescriptorCache::unpin(Inode& inode) {
  int surplus[kTrimBatch + 1];
  std::size_t closing = 0;
  bool free = false;
  {
    const std::lock_guard lock(mutex_);
    if (--inode.pins == 0) {
      if (inode.doomed) {
        free = true;  // forgotten while in use: this was its last user
        if (!inode.handle.empty() && inode.fd >= 0)
          surplus[closing++] = std::exchange(inode.fd, -1);
      } else if (!inode.handle.empty()) {
        link_front(inode);
        closing = trim(capacity_, surplus, kTrimBatch);
      }
    }
  }
  close_all(surplus, closing);
  if (free) delete &inode;  // a held descriptor is closed by ~Inode
}

bool DescriptorCache::drop(Inode& inode) {
  int fd = -1;
  {
    const std::lock_guard lock(mutex_);
    if (inode.pins != 0) {
      inode.doomed = true;  // an operation still uses it: the last unpin frees it
      return false;
    }
    if (inode.handle.empty()) return true;
    if (inode.fd >= 0) unlink(inode);
    fd = std::exchange(inode.fd, -1);
  }
  if (fd >= 0) ::close(fd);
  return true;
}

std::size_t DescriptorCache::shed() {
  std::vector<int> closing;
  {
    const std::lock_guard lock(mutex_);
    closing.resize(count_);
    closing.resize(trim(0, closing.data(), closing.size()));
  }
  close_all(closing.data(), closing.size());
  return closing.size();
}

std::size_t DescriptorCache::cached() const {
  const std::lock_guard lock(mutex_);
  return count_;
}

void DescriptorCache::link_front(Inode& inode) noexcept {
  inode.lru_prev = nullptr;
  inode.lru_next = head_;
  if (head_ != nullptr) head_->lru_prev = &inode;
  head_ = &inode;
  if (tail_ == nullptr) tail_ = &inode;
  ++count_;
}

void DescriptorCache::unlink(Inode& inode) noexcept {
  if (inode.lru_prev != nullptr) {
    inode.lru_prev->lru_next = inode.lru_next;
  } else {
    head_ = inode.lru_next;
  }
  if (inode.lru_next != nullptr) {
    inode.lru_next->lru_prev = inode.lru_prev;
  } else {
    tail_ = inode.lru_prev;
  }
  inode.lru_prev = inode.lru_next = nullptr;
  --count_;
}

std::size_t DescriptorCache::trim(std::size_t keep, int* closing, std::size_t room) noexcept {
  std::size_t taken = 0;
  while (count_ > keep && taken < room) {
    Inode& oldest = *tail_;
    unlink(oldest);
    closing[taken++] = std::exchange(oldest.fd, -1);
  }
  return taken;
}

}  // namespace zc::fs
