// InodeHandle: name_to_handle_at() into a compact copy, open_by_handle_at() back out of it.
#include "inode_handle.hpp"

#include <fcntl.h>

#include <cstring>
#include <utility>

#include "zcopy/core/syscall.hpp"

namespace zc::fs {
namespace {

// A struct file_handle with room for the largest handle the kernel makes (MAX_HANDLE_SZ).
class HandleBuffer {
 public:
  struct file_handle& header() noexcept {
    return *reinterpret_cast<struct file_handle*>(storage_);  // NOLINT: the storage is one
  }

 private:
  alignas(struct file_handle) unsigned char storage_[sizeof(struct file_handle) + MAX_HANDLE_SZ]{};
};

}  // namespace

InodeHandle::InodeHandle(InodeHandle&& other) noexcept
    : type_(other.type_), size_(std::exchange(other.size_, 0)) {
  std::memcpy(inline_, other.inline_, kInline);  // the bytes, or the heap pointer they hold
}

InodeHandle& InodeHandle::operator=(InodeHandle&& other) noexcept {
  if (this != &other) {
    this->~InodeHandle();
    type_ = other.type_;
    size_ = std::exchange(other.size_, 0);
    std::memcpy(inline_, other.inline_, kInline);
  }
  return *this;
}

InodeHandle::~InodeHandle() {
  if (size_ > kInline) delete[] heap_;
  size_ = 0;
}

Result<InodeHandle> InodeHandle::of(int fd, int* mount_id) {
  return named(fd, "", AT_EMPTY_PATH, mount_id);
}

Result<InodeHandle> InodeHandle::at(int dir_fd, const char* name, int* mount_id) {
  return named(dir_fd, name, 0, mount_id);
}

Result<InodeHandle> InodeHandle::named(int dir_fd, const char* name, int flags, int* mount_id) {
  HandleBuffer buffer;
  struct file_handle& header = buffer.header();
  header.handle_bytes = MAX_HANDLE_SZ;
  int mount = 0;
  auto rc = sys_call({"name_to_handle_at", dir_fd},
                     [&] { return ::name_to_handle_at(dir_fd, name, &header, &mount, flags); });
  if (!rc) return std::unexpected(rc.error());
  if (mount_id != nullptr) *mount_id = mount;
  InodeHandle handle;
  handle.type_ = header.handle_type;
  const std::uint32_t size = header.handle_bytes;
  if (size > kInline) {
    handle.heap_ = new unsigned char[size];
    std::memcpy(handle.heap_, header.f_handle, size);
  } else {
    std::memcpy(handle.inline_, header.f_handle, size);
  }
  handle.size_ = size;
  return handle;
}

Result<Fd> InodeHandle::open(int mount_fd, int flags) const {
  HandleBuffer buffer;
  struct file_handle& header = buffer.header();
  header.handle_type = type_;
  header.handle_bytes = size_;
  std::memcpy(header.f_handle, bytes(), size_);
  auto fd = sys_call({"open_by_handle_at", mount_fd},
                     [&] { return ::open_by_handle_at(mount_fd, &header, flags | O_CLOEXEC); });
  if (!fd) return std::unexpected(fd.error());
  return Fd::adopt(*fd);
}

bool InodeHandle::names_inode(std::uint64_t ino) const noexcept {
  // include/linux/exportfs.h: FILEID_INO32_GEN is {u32 ino; u32 gen} (8 bytes; tmpfs uses the
  // same type for another 12-byte layout), FILEID_INO64_GEN {u64 ino; u32 gen} (12 bytes).
  constexpr std::int32_t kIno32Gen = 1;
  constexpr std::int32_t kIno64Gen = 0x81;
  if (type_ == kIno32Gen && size_ == 8) {
    std::uint32_t held = 0;
    std::memcpy(&held, bytes(), sizeof held);
    return ino <= UINT32_MAX && held == ino;
  }
  if (type_ == kIno64Gen && size_ == 12) {
    std::uint64_t held = 0;
    std::memcpy(&held, bytes(), sizeof held);
    return held == ino;
  }
  return false;
}

bool InodeHandle::operator==(const InodeHandle& other) const noexcept {
  return type_ == other.type_ && size_ == other.size_ &&
         std::memcmp(bytes(), other.bytes(), size_) == 0;
}

}  // namespace zc::fs
