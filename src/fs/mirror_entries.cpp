// Callbacks that look at inodes: lookup, forget, getattr, setattr, readlink, statfs.
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <vector>

#include "caller.hpp"
#include "mirror.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc::fs::ops {
namespace {

Result<void> check(Result<int> rc) {
  if (!rc) return std::unexpected(rc.error());
  return {};
}

// Applies one setattr request; the first failure stops it.
Result<void> apply_setattr(fuse_req_t req, Inode& inode, int fd, const struct stat& attr,
                           int to_set, const struct fuse_file_info* fi) {
  // Only a regular file has a handle (directories are never opened: see mirror_dirs.cpp).
  const int open_fd = fi != nullptr && inode.type == S_IFREG ? file_of(fi).fd.get() : -1;
  const bool symlink = inode.type == S_IFLNK;
  if ((to_set & FUSE_SET_ATTR_MODE) != 0) {
    if (symlink) return fail_errno(EOPNOTSUPP, "chmod(symlink)");
    auto rc =
        open_fd >= 0
            ? sys_call({"fchmod", open_fd}, [&] { return ::fchmod(open_fd, attr.st_mode); })
            : sys_call({"chmod", fd}, [&] { return ::chmod(fd_path(fd).c_str(), attr.st_mode); });
    if (auto ok = check(rc); !ok) return ok;
  }
  if ((to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) != 0) {
    const uid_t uid = (to_set & FUSE_SET_ATTR_UID) != 0 ? attr.st_uid : static_cast<uid_t>(-1);
    const gid_t gid = (to_set & FUSE_SET_ATTR_GID) != 0 ? attr.st_gid : static_cast<gid_t>(-1);
    auto rc = sys_call({"fchownat", fd}, [&] {
      return ::fchownat(fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
    });
    if (auto ok = check(rc); !ok) return ok;
  }
  if ((to_set & FUSE_SET_ATTR_SIZE) != 0) {
    if (inode.type != S_IFREG) return fail_errno(EINVAL, "truncate");
    // Opened by the daemon (the kernel checked the caller's access), cut as the writer: a
    // non-owner's truncation clears set-uid and set-gid bits as natively, which the kernel
    // leaves to the mirror (FUSE_HANDLE_KILLPRIV_V2).
    Result<Fd> own;
    if (open_fd < 0) {
      own = Fd::open(fd_path(fd), O_WRONLY | O_NOCTTY);
      if (!own) return std::unexpected(own.error());
    }
    const int target = open_fd >= 0 ? open_fd : own->get();
    const ActAsWriter as_writer(req);
    auto rc = sys_call({"ftruncate", target}, [&] { return ::ftruncate(target, attr.st_size); });
    if (auto ok = check(rc); !ok) return ok;
  }
  if ((to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)) != 0) {
    struct timespec times[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
    if ((to_set & FUSE_SET_ATTR_ATIME_NOW) != 0) {
      times[0].tv_nsec = UTIME_NOW;
    } else if ((to_set & FUSE_SET_ATTR_ATIME) != 0) {
      times[0] = attr.st_atim;
    }
    if ((to_set & FUSE_SET_ATTR_MTIME_NOW) != 0) {
      times[1].tv_nsec = UTIME_NOW;
    } else if ((to_set & FUSE_SET_ATTR_MTIME) != 0) {
      times[1] = attr.st_mtim;
    }
    Result<int> rc = 0;
    if (open_fd >= 0) {
      rc = sys_call({"futimens", open_fd}, [&] { return ::futimens(open_fd, times); });
    } else if (symlink) {
      rc = sys_call({"utimensat", fd}, [&] {
        return ::utimensat(fd, "", times, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
      });
    } else {
      rc = sys_call({"utimensat", fd},
                    [&] { return ::utimensat(AT_FDCWD, fd_path(fd).c_str(), times, 0); });
    }
    if (auto ok = check(rc); !ok) return ok;
  }
  return {};
}

}  // namespace

void lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Mirror& mirror = mirror_of(req);
  bool absent = false;
  auto entry = lookup_entry(mirror, mirror.inodes().get(parent), name, &absent);
  if (absent) {
    // A name that does not exist is remembered as long as one that does (inode 0: a negative
    // entry), so creating a new file costs no second LOOKUP (tar, cp and editors look first).
    // What the mount creates replaces it at once; what appears in SRC directly shows within the
    // cache time, as changes to existing names do. Not for a directory moved out of SRC: it may
    // come back under another name, with its names intact.
    fuse_entry_param negative{};
    negative.entry_timeout = mirror.cache_seconds();
    return (void)fuse_reply_entry(req, &negative);
  }
  if (!entry) return reply_error(req, entry.error());
  fuse_reply_entry(req, &*entry);
}

void forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  Mirror& mirror = mirror_of(req);
  mirror.inodes().forget(mirror.inodes().get(ino), nlookup);
  fuse_reply_none(req);
}

void forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data* forgets) {
  Mirror& mirror = mirror_of(req);
  for (size_t i = 0; i < count; ++i) {
    mirror.inodes().forget(mirror.inodes().get(forgets[i].ino), forgets[i].nlookup);
  }
  fuse_reply_none(req);
}

void getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* /*fi*/) {
  Mirror& mirror = mirror_of(req);
  auto st = stat_inode(mirror, mirror.inodes().get(ino));
  if (!st) return reply_error(req, st.error());
  fuse_reply_attr(req, &*st, mirror.cache_seconds());
}

void setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set,
             struct fuse_file_info* fi) {
  Mirror& mirror = mirror_of(req);
  Inode& inode = mirror.inodes().get(ino);
  auto fd = mirror.inodes().descriptor(inode);
  if (!fd) return reply_error(req, fd.error());
  if (auto done = apply_setattr(req, inode, fd->get(), *attr, to_set, fi); !done) {
    return reply_error(req, done.error());
  }
  auto st = stat_inode(inode, fd->get());
  if (!st) return reply_error(req, st.error());
  fuse_reply_attr(req, &*st, mirror.cache_seconds());
}

void readlink(fuse_req_t req, fuse_ino_t ino) {
  Mirror& mirror = mirror_of(req);
  auto fd = mirror.inodes().descriptor(mirror.inodes().get(ino));
  if (!fd) return reply_error(req, fd.error());
  std::vector<char> target(PATH_MAX + 1);
  auto n = sys_call({"readlinkat", fd->get()},
                    [&] { return ::readlinkat(fd->get(), "", target.data(), target.size() - 1); });
  if (!n) return reply_error(req, n.error());
  target[static_cast<size_t>(*n)] = '\0';
  fuse_reply_readlink(req, target.data());
}

void statfs(fuse_req_t req, fuse_ino_t ino) {
  Mirror& mirror = mirror_of(req);
  auto fd = mirror.inodes().descriptor(mirror.inodes().get(ino));
  if (!fd) return reply_error(req, fd.error());
  struct statvfs st {};
  auto rc = sys_call({"fstatvfs", fd->get()}, [&] { return ::fstatvfs(fd->get(), &st); });
  if (!rc) return reply_error(req, rc.error());
  fuse_reply_statfs(req, &st);
}

}  // namespace zc::fs::ops
