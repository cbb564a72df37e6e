// Extended attributes, reached through /proc/self/fd so the O_PATH descriptor's inode is the
// one changed. Following that magic link lands on the inode the descriptor holds, a symlink
// itself included, so a symlink's security.* and trusted.* attributes (SELinux labels, what
// `cp -a` copies) work as on the source; user.* ones the kernel refuses on symlinks, as natively.
#include <sys/xattr.h>

#include <optional>
#include <vector>

#include "mirror.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc::fs::ops {
namespace {

// The inode's descriptor, or an error reply.
std::optional<InodeFd> descriptor_of(fuse_req_t req, fuse_ino_t ino) {
  InodeTable& table = mirror_of(req).inodes();
  auto fd = table.descriptor(table.get(ino));
  if (!fd) {
    reply_error(req, fd.error());
    return std::nullopt;
  }
  return std::move(*fd);
}

// Answers a size query (size 0) with the size, otherwise with the bytes.
void reply_sized(fuse_req_t req, size_t size, const Result<ssize_t>& n,
                 const std::vector<char>& value) {
  if (!n) return reply_error(req, n.error());
  if (size == 0) return (void)fuse_reply_xattr(req, static_cast<size_t>(*n));
  fuse_reply_buf(req, value.data(), static_cast<size_t>(*n));
}

}  // namespace

void setxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size,
              int flags) {
  auto fd = descriptor_of(req, ino);
  if (!fd) return;
  auto rc = sys_call({"setxattr", fd->get()}, [&] {
    return ::setxattr(fd_path(fd->get()).c_str(), name, value, size, flags);
  });
  fuse_reply_err(req, rc ? 0 : rc.error().sys_errno());
}

void getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  auto fd = descriptor_of(req, ino);
  if (!fd) return;
  std::vector<char> value(size);
  auto n = sys_call({"getxattr", fd->get()}, [&] {
    return ::getxattr(fd_path(fd->get()).c_str(), name, value.data(), size);
  });
  reply_sized(req, size, n, value);
}

void listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  auto fd = descriptor_of(req, ino);
  if (!fd) return;
  std::vector<char> names(size);
  auto n = sys_call({"listxattr", fd->get()},
                    [&] { return ::listxattr(fd_path(fd->get()).c_str(), names.data(), size); });
  reply_sized(req, size, n, names);
}

void removexattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
  auto fd = descriptor_of(req, ino);
  if (!fd) return;
  auto rc = sys_call({"removexattr", fd->get()},
                     [&] { return ::removexattr(fd_path(fd->get()).c_str(), name); });
  fuse_reply_err(req, rc ? 0 : rc.error().sys_errno());
}

}  // namespace zc::fs::ops
