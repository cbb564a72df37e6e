// The Mirror: shared state, the operations table, INIT (where the mode is settled) and lookup.
#include "mirror.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "zcopy/core/syscall.hpp"

namespace zc::fs {
namespace {

void init(void* userdata, struct fuse_conn_info* conn) {
  Mirror& mirror = *static_cast<Mirror*>(userdata);
  conn->want &= ~static_cast<unsigned>(FUSE_CAP_WRITEBACK_CACHE);
  // Splice for data the daemon moves, except in the copy baseline. Passthrough mode keeps it
  // for any file the kernel does not serve itself.
  const unsigned splice_caps = FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_READ;
  if (mirror.requested_mode() == MountMode::copy) {
    conn->want &= ~splice_caps;
  } else {
    conn->want |= splice_caps & conn->capable;
  }
  if ((conn->capable & FUSE_CAP_READDIRPLUS) != 0) conn->want |= FUSE_CAP_READDIRPLUS;

  const MountMode requested = mirror.requested_mode();
  if (requested == MountMode::passthrough || requested == MountMode::auto_select) {
    if (mirror.device().kernel_offers_passthrough()) {
      mirror.device().grant_passthrough(mirror.stack_depth());
      mirror.set_mode(MountMode::passthrough);
    } else if (requested == MountMode::auto_select) {
      mirror.set_mode(MountMode::splice, "the kernel did not offer FUSE_PASSTHROUGH in INIT");
    } else {
      mirror.set_mode(MountMode::passthrough, "the kernel did not offer FUSE_PASSTHROUGH in INIT");
    }
  } else {
    mirror.set_mode(requested);
  }
}

fuse_lowlevel_ops make_operations() {
  fuse_lowlevel_ops o{};
  o.init = init;
  o.lookup = ops::lookup;
  o.forget = ops::forget;
  o.forget_multi = ops::forget_multi;
  o.getattr = ops::getattr;
  o.setattr = ops::setattr;
  o.readlink = ops::readlink;
  o.statfs = ops::statfs;
  o.mknod = ops::mknod;
  o.mkdir = ops::mkdir;
  o.symlink = ops::symlink;
  o.unlink = ops::unlink;
  o.rmdir = ops::rmdir;
  o.rename = ops::rename;
  o.link = ops::link;
  o.open = ops::open;
  o.create = ops::create;
  o.release = ops::release;
  o.flush = ops::flush;
  o.fsync = ops::fsync;
  o.read = ops::read;
  o.write_buf = ops::write_buf;
  o.fallocate = ops::fallocate;
  o.copy_file_range = ops::copy_file_range;
  o.lseek = ops::lseek;
  o.opendir = ops::opendir;
  o.readdir = ops::readdir;
  o.readdirplus = ops::readdirplus;
  o.releasedir = ops::releasedir;
  o.fsyncdir = ops::fsyncdir;
  o.setxattr = ops::setxattr;
  o.getxattr = ops::getxattr;
  o.listxattr = ops::listxattr;
  o.removexattr = ops::removexattr;
  return o;
}

}  // namespace

Mirror::Mirror(Fd root_fd, const struct stat& root_stat, MountMode requested, double cache_seconds,
               std::uint32_t stack_depth)
    : inodes_(std::move(root_fd), root_stat),
      requested_(requested),
      cache_seconds_(cache_seconds),
      stack_depth_(stack_depth),
      mode_(requested == MountMode::auto_select ? MountMode::splice : requested) {}

const fuse_lowlevel_ops& Mirror::operations() {
  static const fuse_lowlevel_ops kOperations = make_operations();
  return kOperations;
}

void Mirror::set_mode(MountMode mode, std::string reason) {
  mode_.store(mode, std::memory_order_relaxed);
  if (!reason.empty()) {
    const std::lock_guard lock(reason_mutex_);
    fallback_reason_ = std::move(reason);
  }
}

std::string Mirror::fallback_reason() const {
  const std::lock_guard lock(reason_mutex_);
  return fallback_reason_;
}

MountStats Mirror::stats() const noexcept {
  MountStats s;
  s.reads = reads.load(std::memory_order_relaxed);
  s.read_bytes = read_bytes.load(std::memory_order_relaxed);
  s.writes = writes.load(std::memory_order_relaxed);
  s.write_bytes = write_bytes.load(std::memory_order_relaxed);
  s.passthrough_opens = passthrough_opens.load(std::memory_order_relaxed);
  s.backing_files = backing_files.load(std::memory_order_relaxed);
  return s;
}

NameKind classify_name(std::string_view name) noexcept {
  if (name.empty() || name.find('/') != std::string_view::npos) return NameKind::invalid;
  if (name.size() > NAME_MAX) return NameKind::too_long;
  if (name == ".") return NameKind::dot;
  if (name == "..") return NameKind::dot_dot;
  return NameKind::plain;
}

int unusable_name_errno(NameKind kind) noexcept {
  return kind == NameKind::too_long ? ENAMETOOLONG : EINVAL;
}

std::string fd_path(int fd) {
  return "/proc/self/fd/" + std::to_string(fd);
}

void reply_error(fuse_req_t req, const Error& error) {
  fuse_reply_err(req, error.sys_errno() != 0 ? error.sys_errno() : EIO);
}

void prepare_worker_thread() noexcept {
  thread_local const bool prepared = [] {
    if (::unshare(CLONE_FS) != 0) return false;
    ::umask(0);
    return true;
  }();
  (void)prepared;
}

Result<struct stat> stat_inode(const Inode& inode) {
  struct stat st {};
  auto rc = sys_call({"fstatat", inode.fd.get()}, [&] {
    return ::fstatat(inode.fd.get(), "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
  });
  if (!rc) return std::unexpected(rc.error());
  return st;
}

Result<fuse_entry_param> lookup_entry(Mirror& mirror, Inode& parent, const char* name) {
  Fd fd;
  switch (const NameKind kind = classify_name(name)) {
    case NameKind::too_long:
    case NameKind::invalid:
      return fail_errno(unusable_name_errno(kind), "lookup");
    case NameKind::dot: {
      auto dup = parent.fd.duplicate();
      if (!dup) return std::unexpected(dup.error());
      fd = std::move(*dup);
      break;
    }
    case NameKind::dot_dot:
      if (&parent == &mirror.inodes().root()) {  // `..` at the root stays at the root
        auto dup = parent.fd.duplicate();
        if (!dup) return std::unexpected(dup.error());
        fd = std::move(*dup);
        break;
      }
      [[fallthrough]];
    case NameKind::plain: {
      auto opened = Fd::open_at(parent.fd.get(), name, O_PATH | O_NOFOLLOW);
      if (!opened) return std::unexpected(opened.error());
      fd = std::move(*opened);
      break;
    }
  }
  return remember_entry(mirror, std::move(fd));
}

Result<fuse_entry_param> remember_entry(Mirror& mirror, Fd path) {
  struct stat st {};
  auto rc = sys_call({"fstatat", path.get()}, [&] {
    return ::fstatat(path.get(), "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
  });
  if (!rc) return std::unexpected(rc.error());
  InodeTable& table = mirror.inodes();
  Inode& inode = table.remember(std::move(path), st);
  fuse_entry_param entry{};
  entry.ino = table.id_of(inode);
  entry.attr = st;
  entry.attr_timeout = mirror.cache_seconds();
  entry.entry_timeout = mirror.cache_seconds();
  return entry;
}

}  // namespace zc::fs
