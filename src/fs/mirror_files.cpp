// Callbacks that open and close files: open, create, release, flush, fsync. In passthrough mode
// open registers the inode's backing file with the kernel and release unregisters it.
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

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
// returns its id; 0 when this open is served by the daemon instead.
Result<std::int32_t> attach_backing(Mirror& mirror, FileHandle& handle) {
  if (mirror.mode() != MountMode::passthrough) return 0;
  Inode& inode = *handle.inode;
  const std::lock_guard lock(inode.backing_mutex);
  if (inode.backing_users == 0) {
    auto id = backing_open(mirror.device_fd(), handle.fd.get());
    if (!id) {
      if (mirror.requested_mode() == MountMode::auto_select) {
        mirror.set_mode(MountMode::splice, id.error().message());
        return 0;
      }
      return std::unexpected(id.error());
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
  const std::lock_guard lock(inode.backing_mutex);
  if (--inode.backing_users == 0) {
    // Failure leaves an id registered until the connection ends; nothing else to do here.
    [[maybe_unused]] auto closed = backing_close(mirror.device_fd(), inode.backing_id);
    inode.backing_id = 0;
    mirror.backing_files.fetch_sub(1, std::memory_order_relaxed);
  }
}

// Fills `fi` for a new handle and sets up passthrough; on failure the handle is gone.
Result<std::int32_t> adopt_handle(Mirror& mirror, std::unique_ptr<FileHandle> handle,
                                  struct fuse_file_info* fi) {
  auto backing = attach_backing(mirror, *handle);
  if (!backing) return std::unexpected(backing.error());
  fi->fh = reinterpret_cast<uint64_t>(handle.release());
  fi->keep_cache = 0;  // another opener may have changed the source
  return *backing;
}

}  // namespace

void open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi) {
  Mirror& mirror = mirror_of(req);
  Inode& inode = mirror.inodes().get(ino);
  if (inode.type == S_IFLNK) return (void)fuse_reply_err(req, ELOOP);
  if (inode.type == S_IFDIR) return (void)fuse_reply_err(req, EISDIR);
  auto handle = std::make_unique<FileHandle>();
  handle->inode = &inode;
  auto fd = Fd::open(fd_path(inode.fd.get()), own_flags(fi->flags));
  if (!fd) return reply_error(req, fd.error());
  handle->fd = std::move(*fd);
  auto backing = adopt_handle(mirror, std::move(handle), fi);
  if (!backing) return reply_error(req, backing.error());
  DeviceHooks::expect_open_reply(*backing);
  if (fuse_reply_open(req, fi) != 0) {
    // The opener was interrupted: the kernel will not release this handle.
    DeviceHooks::expect_open_reply(0);
    detach_backing(mirror, file_of(fi));
    delete &file_of(fi);
  }
}

void create(fuse_req_t req, fuse_ino_t parent_id, const char* name, mode_t mode,
            struct fuse_file_info* fi) {
  if (const NameKind kind = classify_name(name); kind != NameKind::plain) {
    return (void)fuse_reply_err(req, unusable_name_errno(kind));
  }
  prepare_worker_thread();
  Mirror& mirror = mirror_of(req);
  Inode& parent = mirror.inodes().get(parent_id);
  auto fd =
      Fd::open_at(parent.fd.get(), name, (fi->flags | O_CREAT) & ~(O_NOFOLLOW | O_NOCTTY), mode);
  if (!fd) return reply_error(req, fd.error());
  const fuse_ctx* ctx = fuse_req_ctx(req);
  if (ctx != nullptr && ctx->uid != ::geteuid()) {
    [[maybe_unused]] const int rc = ::fchown(fd->get(), ctx->uid, ctx->gid);
  }
  auto entry = lookup_entry(mirror, parent, name);
  if (!entry) return reply_error(req, entry.error());
  auto handle = std::make_unique<FileHandle>();
  handle->inode = &mirror.inodes().get(entry->ino);
  handle->fd = std::move(*fd);
  auto backing = adopt_handle(mirror, std::move(handle), fi);
  if (!backing) {
    mirror.inodes().forget(mirror.inodes().get(entry->ino), 1);
    return reply_error(req, backing.error());
  }
  DeviceHooks::expect_open_reply(*backing);
  if (fuse_reply_create(req, &*entry, fi) != 0) {
    DeviceHooks::expect_open_reply(0);
    detach_backing(mirror, file_of(fi));
    delete &file_of(fi);
  }
}

void release(fuse_req_t req, fuse_ino_t /*ino*/, struct fuse_file_info* fi) {
  Mirror& mirror = mirror_of(req);
  FileHandle* handle = &file_of(fi);
  detach_backing(mirror, *handle);
  delete handle;
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
