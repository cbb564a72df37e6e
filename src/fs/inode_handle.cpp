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

Result<InodeHandle> InodeHandle::of(int fd) {
  HandleBuffer buffer;
  struct file_handle& header = buffer.header();
  header.handle_bytes = MAX_HANDLE_SZ;
  int mount_id = 0;
  auto rc = sys_call({"name_to_handle_at", fd}, [&] {
    return ::name_to_handle_at(fd, "", &header, &mount_id, AT_EMPTY_PATH);
  });
  if (!rc) return std::unexpected(rc.error());
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

bool InodeHandle::operator==(const InodeHandle& other) const noexcept {
  return type_ == other.type_ && size_ == other.size_ &&
         std::memcmp(bytes(), other.bytes(), size_) == 0;
}

}  // namespace zc::fs
