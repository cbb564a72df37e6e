// src/fs/open_handles.hpp: the handles the kernel holds (fuse_file_info::fh), owned by the mount.
//
// The kernel names an open file or directory by the number open() put in `fh` and gives it back
// with RELEASE. A connection that ends first (an unmount racing the last close, whose RELEASE is
// sent asynchronously, or a daemon told to stop) never sends it, so the mount owns every handle
// it gave out and frees what is left when it ends: nothing leaks however the mount goes away.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace zc::fs {

template <typename Handle>
class OpenHandles {
 public:
  // Keeps `handle` and returns the number the kernel will hold for it.
  std::uint64_t adopt(std::unique_ptr<Handle> handle) {
    const auto fh =
        reinterpret_cast<std::uint64_t>(handle.get());  // NOLINT: fh is an opaque number
    const std::lock_guard lock(mutex_);
    handles_.emplace(fh, std::move(handle));
    return fh;
  }

  // Gives the handle numbered `fh` back to the caller (released by the kernel); null if unknown.
  std::unique_ptr<Handle> take(std::uint64_t fh) {
    const std::lock_guard lock(mutex_);
    auto node = handles_.extract(fh);
    return node.empty() ? nullptr : std::move(node.mapped());
  }

  std::size_t size() const {
    const std::lock_guard lock(mutex_);
    return handles_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::uint64_t, std::unique_ptr<Handle>> handles_;  // protected by mutex_
};

// The handle numbered `fh`: valid between open and release, which the kernel orders.
template <typename Handle>
Handle& handle_at(std::uint64_t fh) {
  return *reinterpret_cast<Handle*>(fh);  // NOLINT: fh is a number OpenHandles::adopt returned
}

}  // namespace zc::fs
