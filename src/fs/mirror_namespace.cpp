// Callbacks that change names: mknod, mkdir, symlink, unlink, rmdir, rename, link. Every one
// acts relative to the parent's O_PATH descriptor on a single checked name component.
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <optional>

#include "caller.hpp"
#include "mirror.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc::fs::ops {
namespace {

bool valid_name(fuse_req_t req, const char* name) {
  const NameKind kind = classify_name(name);
  if (kind == NameKind::plain) return true;
  const bool dots = kind == NameKind::dot || kind == NameKind::dot_dot;
  fuse_reply_err(req, dots ? EEXIST : unusable_name_errno(kind));
  return false;
}

// Runs `make` (a call that creates one entry) with the caller's file system ids, so the entry is
// born the caller's and is never chowned by a name that could have been swapped since.
template <class Make>
Result<int> create_as_caller(fuse_req_t req, Make make) {
  const CreateAsCaller as_caller(req);
  return make();
}

// After a successful creation: answer with the entry.
void reply_created(fuse_req_t req, Mirror& mirror, int parent_fd, const char* name) {
  auto entry = lookup_in(mirror, parent_fd, name);
  if (!entry) return reply_error(req, entry.error());
  fuse_reply_entry(req, &*entry);
}

// The parent's descriptor, or an error reply.
std::optional<InodeFd> parent_of(fuse_req_t req, Mirror& mirror, fuse_ino_t parent_id) {
  auto fd = mirror.inodes().directory(mirror.inodes().get(parent_id));
  if (!fd) {
    reply_error(req, fd.error());
    return std::nullopt;
  }
  return std::move(*fd);
}

}  // namespace

void mknod(fuse_req_t req, fuse_ino_t parent_id, const char* name, mode_t mode, dev_t rdev) {
  if (!valid_name(req, name)) return;
  prepare_worker_thread();
  Mirror& mirror = mirror_of(req);
  auto parent = parent_of(req, mirror, parent_id);
  if (!parent) return;
  const int dir = parent->get();
  auto rc = create_as_caller(req, [&] {
    return sys_call({"mknodat", dir}, [&] { return ::mknodat(dir, name, mode, rdev); });
  });
  if (!rc) return reply_error(req, rc.error());
  reply_created(req, mirror, dir, name);
}

void mkdir(fuse_req_t req, fuse_ino_t parent_id, const char* name, mode_t mode) {
  if (!valid_name(req, name)) return;
  prepare_worker_thread();
  Mirror& mirror = mirror_of(req);
  auto parent = parent_of(req, mirror, parent_id);
  if (!parent) return;
  const int dir = parent->get();
  auto rc = create_as_caller(req, [&] {
    return sys_call({"mkdirat", dir}, [&] { return ::mkdirat(dir, name, mode); });
  });
  if (!rc) return reply_error(req, rc.error());
  reply_created(req, mirror, dir, name);
}

void symlink(fuse_req_t req, const char* link, fuse_ino_t parent_id, const char* name) {
  if (!valid_name(req, name)) return;
  Mirror& mirror = mirror_of(req);
  auto parent = parent_of(req, mirror, parent_id);
  if (!parent) return;
  const int dir = parent->get();
  // The target is stored as text and never resolved by the daemon.
  auto rc = create_as_caller(req, [&] {
    return sys_call({"symlinkat", dir}, [&] { return ::symlinkat(link, dir, name); });
  });
  if (!rc) return reply_error(req, rc.error());
  reply_created(req, mirror, dir, name);
}

void unlink(fuse_req_t req, fuse_ino_t parent_id, const char* name) {
  if (!valid_name(req, name)) return;
  auto parent = parent_of(req, mirror_of(req), parent_id);
  if (!parent) return;
  const int dir = parent->get();
  auto rc = sys_call({"unlinkat", dir}, [&] { return ::unlinkat(dir, name, 0); });
  fuse_reply_err(req, rc ? 0 : rc.error().sys_errno());
}

void rmdir(fuse_req_t req, fuse_ino_t parent_id, const char* name) {
  if (!valid_name(req, name)) return;
  auto parent = parent_of(req, mirror_of(req), parent_id);
  if (!parent) return;
  const int dir = parent->get();
  auto rc = sys_call({"unlinkat", dir}, [&] { return ::unlinkat(dir, name, AT_REMOVEDIR); });
  fuse_reply_err(req, rc ? 0 : rc.error().sys_errno());
}

void rename(fuse_req_t req, fuse_ino_t parent_id, const char* name, fuse_ino_t newparent_id,
            const char* newname, unsigned int flags) {
  if (!valid_name(req, name) || !valid_name(req, newname)) return;
  Mirror& mirror = mirror_of(req);
  auto parent = parent_of(req, mirror, parent_id);
  if (!parent) return;
  auto newparent = parent_of(req, mirror, newparent_id);
  if (!newparent) return;
  // RENAME_NOREPLACE, RENAME_EXCHANGE and RENAME_WHITEOUT pass straight to the source.
  auto rc = sys_call({"renameat2", parent->get()}, [&] {
    return ::renameat2(parent->get(), name, newparent->get(), newname, flags);
  });
  fuse_reply_err(req, rc ? 0 : rc.error().sys_errno());
}

void link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent_id, const char* newname) {
  if (!valid_name(req, newname)) return;
  Mirror& mirror = mirror_of(req);
  auto fd = mirror.inodes().descriptor(mirror.inodes().get(ino));
  if (!fd) return reply_error(req, fd.error());
  auto newparent = parent_of(req, mirror, newparent_id);
  if (!newparent) return;
  const int from = fd->get();
  const int dir = newparent->get();
  // AT_EMPTY_PATH links the inode the descriptor holds (needs CAP_DAC_READ_SEARCH); without
  // that privilege, the /proc/self/fd link reaches the same inode.
  auto rc =
      sys_call({"linkat", from}, [&] { return ::linkat(from, "", dir, newname, AT_EMPTY_PATH); });
  if (!rc && (rc.error().sys_errno() == ENOENT || rc.error().sys_errno() == EPERM)) {
    rc = sys_call({"linkat", from}, [&] {
      return ::linkat(AT_FDCWD, fd_path(from).c_str(), dir, newname, AT_SYMLINK_FOLLOW);
    });
  }
  if (!rc) return reply_error(req, rc.error());
  reply_created(req, mirror, dir, newname);
}

}  // namespace zc::fs::ops
