// Callbacks that change names: mknod, mkdir, symlink, unlink, rmdir, rename, link. Every one
// acts relative to the parent's O_PATH descriptor on a single checked name component.
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

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
void reply_created(fuse_req_t req, Mirror& mirror, Inode& parent, const char* name) {
  auto entry = lookup_entry(mirror, parent, name);
  if (!entry) return reply_error(req, entry.error());
  fuse_reply_entry(req, &*entry);
}

}  // namespace

void mknod(fuse_req_t req, fuse_ino_t parent_id, const char* name, mode_t mode, dev_t rdev) {
  if (!valid_name(req, name)) return;
  prepare_worker_thread();
  Mirror& mirror = mirror_of(req);
  Inode& parent = mirror.inodes().get(parent_id);
  auto rc = create_as_caller(req, [&] {
    return sys_call({"mknodat", parent.fd.get()},
                    [&] { return ::mknodat(parent.fd.get(), name, mode, rdev); });
  });
  if (!rc) return reply_error(req, rc.error());
  reply_created(req, mirror, parent, name);
}

void mkdir(fuse_req_t req, fuse_ino_t parent_id, const char* name, mode_t mode) {
  if (!valid_name(req, name)) return;
  prepare_worker_thread();
  Mirror& mirror = mirror_of(req);
  Inode& parent = mirror.inodes().get(parent_id);
  auto rc = create_as_caller(req, [&] {
    return sys_call({"mkdirat", parent.fd.get()},
                    [&] { return ::mkdirat(parent.fd.get(), name, mode); });
  });
  if (!rc) return reply_error(req, rc.error());
  reply_created(req, mirror, parent, name);
}

void symlink(fuse_req_t req, const char* link, fuse_ino_t parent_id, const char* name) {
  if (!valid_name(req, name)) return;
  Mirror& mirror = mirror_of(req);
  Inode& parent = mirror.inodes().get(parent_id);
  // The target is stored as text and never resolved by the daemon.
  auto rc = create_as_caller(req, [&] {
    return sys_call({"symlinkat", parent.fd.get()},
                    [&] { return ::symlinkat(link, parent.fd.get(), name); });
  });
  if (!rc) return reply_error(req, rc.error());
  reply_created(req, mirror, parent, name);
}

void unlink(fuse_req_t req, fuse_ino_t parent_id, const char* name) {
  if (!valid_name(req, name)) return;
  Inode& parent = mirror_of(req).inodes().get(parent_id);
  auto rc =
      sys_call({"unlinkat", parent.fd.get()}, [&] { return ::unlinkat(parent.fd.get(), name, 0); });
  fuse_reply_err(req, rc ? 0 : rc.error().sys_errno());
}

void rmdir(fuse_req_t req, fuse_ino_t parent_id, const char* name) {
  if (!valid_name(req, name)) return;
  Inode& parent = mirror_of(req).inodes().get(parent_id);
  auto rc = sys_call({"unlinkat", parent.fd.get()},
                     [&] { return ::unlinkat(parent.fd.get(), name, AT_REMOVEDIR); });
  fuse_reply_err(req, rc ? 0 : rc.error().sys_errno());
}

void rename(fuse_req_t req, fuse_ino_t parent_id, const char* name, fuse_ino_t newparent_id,
            const char* newname, unsigned int flags) {
  if (!valid_name(req, name) || !valid_name(req, newname)) return;
  Mirror& mirror = mirror_of(req);
  Inode& parent = mirror.inodes().get(parent_id);
  Inode& newparent = mirror.inodes().get(newparent_id);
  // RENAME_NOREPLACE, RENAME_EXCHANGE and RENAME_WHITEOUT pass straight to the source.
  auto rc = sys_call({"renameat2", parent.fd.get()}, [&] {
    return ::renameat2(parent.fd.get(), name, newparent.fd.get(), newname, flags);
  });
  fuse_reply_err(req, rc ? 0 : rc.error().sys_errno());
}

void link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent_id, const char* newname) {
  if (!valid_name(req, newname)) return;
  Mirror& mirror = mirror_of(req);
  Inode& inode = mirror.inodes().get(ino);
  Inode& newparent = mirror.inodes().get(newparent_id);
  // AT_EMPTY_PATH links the inode the descriptor holds (needs CAP_DAC_READ_SEARCH); without
  // that privilege, the /proc/self/fd link reaches the same inode.
  auto rc = sys_call({"linkat", inode.fd.get()}, [&] {
    return ::linkat(inode.fd.get(), "", newparent.fd.get(), newname, AT_EMPTY_PATH);
  });
  if (!rc && (rc.error().sys_errno() == ENOENT || rc.error().sys_errno() == EPERM)) {
    rc = sys_call({"linkat", inode.fd.get()}, [&] {
      return ::linkat(AT_FDCWD, fd_path(inode.fd.get()).c_str(), newparent.fd.get(), newname,
                      AT_SYMLINK_FOLLOW);
    });
  }
  if (!rc) return reply_error(req, rc.error());
  auto entry = lookup_entry(mirror, newparent, newname);
  if (!entry) return reply_error(req, entry.error());
  fuse_reply_entry(req, &*entry);
}

}  // namespace zc::fs::ops
