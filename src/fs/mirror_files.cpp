// Callbacks that open and close files: open, create, release, flush, fsync. In passthrough mode
// open registers the inode's backing file with the kernel and release unregisters it. create
// never follows a symlink and never hands over a file it did not create (see caller.hpp).
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "caller.hpp"
#include "mirror.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc::fs::ops {
namespace {

// Flags for opening our own descriptor: the kernel already resolved the name, and the
// /proc/self/fd path is a magic link that O_NOFOLLOW would refuse.
int own_flags(int flags) {
  return flags & ~(O_NOFOLLOW | O_CREAT | O_EXCL | O_NOCTTY);
}

// Registers the inode's backing file (once per inode while it has passthrough opens) and
// returns its id; 0 when this open is served by the daemon instead. The kernel refuses some
// files (ELOOP for one on a stacked file system mounted inside SRC): that inode is then served
// by the daemon, and every other file keeps passthrough.
std::int32_t attach_backing(fuse_req_t req, Mirror& mirror, FileHandle& handle) {
  if (mirror.mode() != MountMode::passthrough) return 0;
  Inode& inode = *handle.inode;
  const std::lock_guard lock(mirror.inodes().backing_lock(inode));
  if (inode.passthrough_refused) {
    mirror.passthrough_refusals.fetch_add(1, std::memory_order_relaxed);
    return 0;
  }
  if (inode.backing_users == 0) {
    // The kernel keeps the credentials of this call for the I/O it does on the file.
    auto id = [&] {
      const ActAsWriter as_writer(req);
      return backing_open(mirror.device_fd(), handle.fd.get());
    }();
    if (!id) {
      inode.passthrough_refused = true;
      mirror.passthrough_refusals.fetch_add(1, std::memory_order_relaxed);
      mirror.note_once(mirror.noted_passthrough_refusal,
                       "files the kernel will not pass through are served by the daemon, each "
                       "alone (the first: " +
                           id.error().message() + ")");
      return 0;
    }
    inode.backing_id = *id;
    mirror.backing_files.fetch_add(1, std::memory_order_relaxed);
  }
  ++inode.backing_users;
  handle.passthrough = true;
  mirror.passthrough_opens.fetch_add(1, std::memory_order_relaxed);
  return inode.backing_id;
}

void detach_backing(Mirror& mirror, FileHandle& handle) {
  if (!handle.passthrough) return;
  Inode& inode = *handle.inode;
  const std::lock_guard lock(mirror.inodes().backing_lock(inode));
  if (--inode.backing_users == 0) {
    // Failure leaves an id registered until the connection ends; nothing else to do here.
    [[maybe_unused]] auto closed = backing_close(mirror.device_fd(), inode.backing_id);
    inode.backing_id = 0;
    mirror.backing_files.fetch_sub(1, std::memory_order_relaxed);
  }
}

// Fills `fi` for a new handle and sets up passthrough; returns the backing id (0 for none).
std::int32_t adopt_handle(fuse_req_t req, Mirror& mirror, std::unique_ptr<FileHandle> handle,
                          struct fuse_file_info* fi) {
  const std::int32_t backing = attach_backing(req, mirror, *handle);
  fi->fh = mirror.files().adopt(std::move(handle));
  fi->keep_cache = 0;  // another opener may have changed the source
  // FLUSH only gives the caller's close what the source file system's own close would report;
  // where that is always nothing (ext4, xfs, btrfs, tmpfs), the round trip is skipped.
  const Inode& inode = *file_of(fi).inode;
  fi->noflush = inode.device != nullptr && !inode.device->close_reports_errors ? 1 : 0;
  return backing;
}

// A file for create: our descriptor with the caller's flags, and an O_PATH one for the inode.
struct CreatedFile {
  Fd file;
  Fd path;
};

// The regular file a non-exclusive create found under `name`: it appeared after the kernel's
// lookup, nobody checked the caller's access to it, and this request did not create it, so it is
// opened only as the caller could open it and keeps its owner.
Result<CreatedFile> open_existing(fuse_req_t req, InodeTable& table, int parent_fd,
                                  const char* name, int flags) {
  auto path = table.with_room([&] { return Fd::open_at(parent_fd, name, O_PATH | O_NOFOLLOW); });
  if (!path) return std::unexpected(path.error());
  struct stat st {};
  if (auto rc = sys_call({"fstat", path->get()}, [&] { return ::fstat(path->get(), &st); }); !rc) {
    return std::unexpected(rc.error());
  }
  if (S_ISLNK(st.st_mode)) return fail_errno(ELOOP, "create(symlink)");  // what O_NOFOLLOW says
  if (S_ISDIR(st.st_mode)) return fail_errno(EISDIR, "create(directory)");
  if (!S_ISREG(st.st_mode)) return fail_errno(EEXIST, "create(special file)");
  if (!caller_may_open(req, st, flags)) return fail_errno(EACCES, "create(existing file)");
  // The inode checked, not whatever the name refers to by now.
  auto file = table.with_room([&] { return Fd::open(fd_path(path->get()), own_flags(flags)); });
  if (!file) return std::unexpected(file.error());
  return CreatedFile{std::move(*file), std::move(*path)};
}

// How often a name may appear and vanish again under one create before it gives up.
constexpr int kCreateAttempts = 4;

// Creates `name` for the caller, never following a symlink. Only when the caller did not ask for
// O_EXCL and the name exists by now is the file there opened instead (open_existing).
Result<CreatedFile> create_or_open(fuse_req_t req, InodeTable& table, int parent_fd,
                                   const char* name, mode_t mode, int flags) {
  Error last = Error::from_errno(EEXIST, "create");
  for (int attempt = 0; attempt < kCreateAttempts; ++attempt) {
    Result<Fd> created = table.with_room([&] {
      const CreateAsCaller as_caller(req);
      return Fd::open_at(parent_fd, name, own_flags(flags) | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
    });
    if (created) {
      auto path = table.with_room([&] { return Fd::open(fd_path(created->get()), O_PATH); });
      if (!path) return std::unexpected(path.error());
      return CreatedFile{std::move(*created), std::move(*path)};
    }
    if (created.error().sys_errno() != EEXIST || (flags & O_EXCL) != 0) {
      return std::unexpected(created.error());
    }
    auto existing = open_existing(req, table, parent_fd, name, flags);
    if (existing || existing.error().sys_errno() != ENOENT) return existing;
    last = existing.error();  // gone again: create it after all
  }
  return std::unexpected(last);
}

// Opens the inode for I/O with `flags`: straight from its handle when it has one.
Result<Fd> open_inode(InodeTable& table, Inode& inode, int flags) {
  if (!inode.handle.empty()) {
    return table.with_room([&] { return inode.handle.open(inode.device->mount_fd.get(), flags); });
  }
  return table.with_room([&] { return Fd::open(fd_path(inode.fd), flags); });
}

}  // namespace

void open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi) {
  Mirror& mirror = mirror_of(req);
  Inode& inode = mirror.inodes().get(ino);
  if (inode.type == S_IFLNK) return (void)fuse_reply_err(req, ELOOP);
  if (inode.type == S_IFDIR) return (void)fuse_reply_err(req, EISDIR);
  auto handle = std::make_unique<FileHandle>();
  handle->inode = &inode;
  // O_TRUNC is done as the writer, so a non-owner's truncation clears set-uid and set-gid bits
  // as natively (the kernel leaves that to the mirror: FUSE_HANDLE_KILLPRIV_V2).
  // (O_RDONLY | O_TRUNC truncates too, but leaves no descriptor to ftruncate: opened as asked.)
  const bool truncating = (fi->flags & O_TRUNC) != 0 && (fi->flags & O_ACCMODE) != O_RDONLY;
  const int flags = truncating ? own_flags(fi->flags) & ~O_TRUNC : own_flags(fi->flags);
  auto fd = open_inode(mirror.inodes(), inode, flags);
  if (!fd) return reply_error(req, fd.error());
  if (truncating) {
    const ActAsWriter as_writer(req);
    auto cut = sys_call({"ftruncate", fd->get()}, [&] { return ::ftruncate(fd->get(), 0); });
    if (!cut) return reply_error(req, cut.error());
  }
  handle->fd = std::move(*fd);
  DeviceHooks::expect_open_reply(adopt_handle(req, mirror, std::move(handle), fi));
  if (fuse_reply_open(req, fi) != 0) {
    // The opener was interrupted: the kernel will not release this handle.
    DeviceHooks::expect_open_reply(0);
    detach_backing(mirror, file_of(fi));
    (void)mirror.files().take(fi->fh);
  }
}

void create(fuse_req_t req, fuse_ino_t parent_id, const char* name, mode_t mode,
            struct fuse_file_info* fi) {
  if (const NameKind kind = classify_name(name); kind != NameKind::plain) {
    return (void)fuse_reply_err(req, unusable_name_errno(kind));
  }
  prepare_worker_thread();
  Mirror& mirror = mirror_of(req);
  auto parent = mirror.inodes().directory(mirror.inodes().get(parent_id));
  if (!parent) return reply_error(req, parent.error());
  auto opened = create_or_open(req, mirror.inodes(), parent->get(), name, mode, fi->flags);
  if (!opened) return reply_error(req, opened.error());
  // The entry is the inode opened, whatever the name refers to by now.
  auto entry = remember_entry(mirror, std::move(opened->path));
  if (!entry) return reply_error(req, entry.error());
  auto handle = std::make_unique<FileHandle>();
  handle->inode = &mirror.inodes().get(entry->ino);
  handle->fd = std::move(opened->file);
  DeviceHooks::expect_open_reply(adopt_handle(req, mirror, std::move(handle), fi));
  if (fuse_reply_create(req, &*entry, fi) != 0) {
    // The kernel learns of neither the handle nor the entry.
    DeviceHooks::expect_open_reply(0);
    detach_backing(mirror, file_of(fi));
    (void)mirror.files().take(fi->fh);
    mirror.inodes().forget(mirror.inodes().get(entry->ino), 1);
  }
}

void release(fuse_req_t req, fuse_ino_t /*ino*/, struct fuse_file_info* fi) {
  Mirror& mirror = mirror_of(req);
  detach_backing(mirror, file_of(fi));
  (void)mirror.files().take(fi->fh);
  fuse_reply_err(req, 0);
}

void flush(fuse_req_t req, fuse_ino_t /*ino*/, struct fuse_file_info* fi) {
  // Closing a duplicate runs the source filesystem's flush, as the caller's close would, and
  // the caller's close gets what it reports (NFS and FUSE sources report lost writes there).
  auto dup = file_of(fi).fd.duplicate();
  if (!dup) return reply_error(req, dup.error());
  // Not retried on EINTR: the descriptor is released either way.
  const int rc = ::close(dup->release());
  fuse_reply_err(req, rc == 0 ? 0 : errno);
}

void fsync(fuse_req_t req, fuse_ino_t /*ino*/, int datasync, struct fuse_file_info* fi) {
  const int fd = file_of(fi).fd.get();
  auto rc = datasync != 0 ? sys_call({"fdatasync", fd}, [&] { return ::fdatasync(fd); })
                          : sys_call({"fsync", fd}, [&] { return ::fsync(fd); });
  fuse_reply_err(req, rc ? 0 : rc.error().sys_errno());
}

}  // namespace zc::fs::ops
