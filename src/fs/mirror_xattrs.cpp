// Extended attributes, reached through /proc/self/fd so the O_PATH descriptor's inode is the
// one changed. Symlinks cannot carry user attributes, and a magic link cannot name the link
// itself, so they answer ENOTSUP.
#include <sys/xattr.h>

#include <vector>

#include "mirror.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc::fs::ops {
namespace {

bool reachable(fuse_req_t req, const Inode& inode) {
  if (inode.type != S_IFLNK) return true;
  fuse_reply_err(req, ENOTSUP);
  return false;
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
  const Inode& inode = mirror_of(req).inodes().get(ino);
  if (!reachable(req, inode)) return;
  auto rc = sys_call({"setxattr", inode.fd.get()}, [&] {
    return ::setxattr(fd_path(inode.fd.get()).c_str(), name, value, size, flags);
  });
  fuse_reply_err(req, rc ? 0 : rc.error().sys_errno());
}

void getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  const Inode& inode = mirror_of(req).inodes().get(ino);
  if (!reachable(req, inode)) return;
  std::vector<char> value(size);
  auto n = sys_call({"getxattr", inode.fd.get()}, [&] {
    return ::getxattr(fd_path(inode.fd.get()).c_str(), name, value.data(), size);
  });
  reply_sized(req, size, n, value);
}

void listxattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  const Inode& inode = mirror_of(req).inodes().get(ino);
  if (inode.type == S_IFLNK) {  // no names
    if (size == 0) return (void)fuse_reply_xattr(req, 0);
    return (void)fuse_reply_buf(req, nullptr, 0);
  }
  std::vector<char> names(size);
  auto n = sys_call({"listxattr", inode.fd.get()}, [&] {
    return ::listxattr(fd_path(inode.fd.get()).c_str(), names.data(), size);
  });
  reply_sized(req, size, n, names);
}

void removexattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
  const Inode& inode = mirror_of(req).inodes().get(ino);
  if (!reachable(req, inode)) return;
  auto rc = sys_call({"removexattr", inode.fd.get()},
                     [&] { return ::removexattr(fd_path(inode.fd.get()).c_str(), name); });
  fuse_reply_err(req, rc ? 0 : rc.error().sys_errno());
}

}  // namespace zc::fs::ops
