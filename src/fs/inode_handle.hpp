// src/fs/inode_handle.hpp: a file handle (name_to_handle_at) kept in a few bytes, so an inode the
// kernel remembers costs the daemon no descriptor.
//
// A handle names an inode on one file system independently of any path: open_by_handle_at()
// reopens it on demand, and a handle whose inode is gone (or whose number was reused) answers
// ESTALE. Most file systems need 8 to 20 bytes; those fit inline, longer ones (NFS) go to the heap.
//
//   auto handle = InodeHandle::of(fd);           // the inode `fd` holds
//   if (!handle) ...                             // this file system exports none (or EMFILE ...)
//   Result<Fd> again = handle->open(mount_fd, O_PATH);
//
// Opening needs CAP_DAC_READ_SEARCH and a descriptor on the same file system that is not O_PATH.
#pragma once

#include <cstdint>
#include <memory>

#include "zcopy/core/error.hpp"
#include "zcopy/core/fd.hpp"

namespace zc::fs {

class InodeHandle {
 public:
  InodeHandle() noexcept = default;
  InodeHandle(InodeHandle&& other) noexcept;
  InodeHandle& operator=(InodeHandle&& other) noexcept;
  InodeHandle(const InodeHandle&) = delete;
  InodeHandle& operator=(const InodeHandle&) = delete;
  ~InodeHandle();

  // The handle of the inode `fd` (any descriptor, O_PATH included) holds; `mount_id` (when
  // given) gets the id of the mount it was reached through.
  static Result<InodeHandle> of(int fd, int* mount_id = nullptr);
  // The same for what `name` under the directory `dir_fd` is (a symlink itself, not its target;
  // the root of what is mounted there, if anything is).
  static Result<InodeHandle> at(int dir_fd, const char* name, int* mount_id = nullptr);

  // Whether the handle is of a layout that carries the inode number (the generic 32-bit one of
  // ext2/3/4 and others, xfs's 64-bit one) and carries `ino`. A handle taken by name can thus be
  // shown to be of the file an earlier stat of that name described, without opening it.
  bool names_inode(std::uint64_t ino) const noexcept;

  // open_by_handle_at(mount_fd, handle, flags | O_CLOEXEC).
  Result<Fd> open(int mount_fd, int flags) const;

  bool empty() const noexcept { return size_ == 0; }
  bool operator==(const InodeHandle& other) const noexcept;

 private:
  static constexpr std::size_t kInline = 20;
  static Result<InodeHandle> named(int dir_fd, const char* name, int flags, int* mount_id);
  const unsigned char* bytes() const noexcept { return size_ <= kInline ? inline_ : heap_; }

  std::int32_t type_ = 0;
  std::uint32_t size_ = 0;  // handle bytes; 0 for none
  union {
    unsigned char inline_[kInline];
    unsigned char* heap_;  // owned when size_ > kInline
  };
};

}  // namespace zc::fs
