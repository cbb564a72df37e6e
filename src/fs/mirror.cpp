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

// Each callback, counted by operation before it runs.
template <MountOperation kOperation, auto kHandler>
struct Counted;
template <MountOperation kOperation, typename... Args, void (*kHandler)(fuse_req_t, Args...)>
struct Counted<kOperation, kHandler> {
  static void call(fuse_req_t req, Args... args) {
    mirror_of(req).count(kOperation);
    kHandler(req, args...);
  }
};

fuse_lowlevel_ops make_operations() {
  using Op = MountOperation;
  fuse_lowlevel_ops o{};
  o.init = init;
  o.lookup = Counted<Op::lookup, ops::lookup>::call;
  o.forget = Counted<Op::forget, ops::forget>::call;
  o.forget_multi = Counted<Op::forget, ops::forget_multi>::call;
  o.getattr = Counted<Op::getattr, ops::getattr>::call;
  o.setattr = Counted<Op::setattr, ops::setattr>::call;
  o.readlink = Counted<Op::readlink, ops::readlink>::call;
  o.statfs = Counted<Op::statfs, ops::statfs>::call;
  o.mknod = Counted<Op::mknod, ops::mknod>::call;
  o.mkdir = Counted<Op::mkdir, ops::mkdir>::call;
  o.symlink = Counted<Op::symlink, ops::symlink>::call;
  o.unlink = Counted<Op::unlink, ops::unlink>::call;
  o.rmdir = Counted<Op::rmdir, ops::rmdir>::call;
  o.rename = Counted<Op::rename, ops::rename>::call;
  o.link = Counted<Op::link, ops::link>::call;
  o.open = Counted<Op::open, ops::open>::call;
  o.create = Counted<Op::create, ops::create>::call;
  o.release = Counted<Op::release, ops::release>::call;
  o.flush = Counted<Op::flush, ops::flush>::call;
  o.fsync = Counted<Op::fsync, ops::fsync>::call;
  o.read = Counted<Op::read, ops::read>::call;
  o.write_buf = Counted<Op::write, ops::write_buf>::call;
  o.fallocate = Counted<Op::fallocate, ops::fallocate>::call;
  o.copy_file_range = Counted<Op::copy_file_range, ops::copy_file_range>::call;
  o.lseek = Counted<Op::lseek, ops::lseek>::call;
  o.opendir = Counted<Op::opendir, ops::opendir>::call;
  o.readdir = Counted<Op::readdir, ops::readdir>::call;
  o.readdirplus = Counted<Op::readdirplus, ops::readdirplus>::call;
  o.releasedir = Counted<Op::releasedir, ops::releasedir>::call;
  o.fsyncdir = Counted<Op::fsyncdir, ops::fsyncdir>::call;
  o.setxattr = Counted<Op::setxattr, ops::setxattr>::call;
  o.getxattr = Counted<Op::getxattr, ops::getxattr>::call;
  o.listxattr = Counted<Op::listxattr, ops::listxattr>::call;
  o.removexattr = Counted<Op::removexattr, ops::removexattr>::call;
  return o;
}

}  // namespace

Mirror::Mirror(Fd root_fd, const struct stat& root_stat, MountMode requested, double cache_seconds,
               std::uint32_t stack_depth, InodeTable::Options table)
    : log_(table.log),
      inodes_(std::move(root_fd), root_stat, std::move(table)),
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

void Mirror::note(std::string_view line) const {
  if (log_) log_(line);
}

void Mirror::note_once(std::atomic<bool>& once, std::string_view line) const {
  if (!once.exchange(true, std::memory_order_relaxed)) note(line);
}

MountStats Mirror::stats() const noexcept {
  MountStats s;
  s.reads = reads.load(std::memory_order_relaxed);
  s.read_bytes = read_bytes.load(std::memory_order_relaxed);
  s.writes = writes.load(std::memory_order_relaxed);
  s.write_bytes = write_bytes.load(std::memory_order_relaxed);
  s.passthrough_opens = passthrough_opens.load(std::memory_order_relaxed);
  s.backing_files = backing_files.load(std::memory_order_relaxed);
  s.passthrough_refusals = passthrough_refusals.load(std::memory_order_relaxed);
  s.requests = device_.requests();
  s.inodes = inodes_.size();
  s.cached_descriptors = inodes_.descriptors().cached();
  for (std::size_t i = 0; i < kMountOperations; ++i) {
    s.by_operation[i] = by_operation_[i].load(std::memory_order_relaxed);
  }
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

Result<struct stat> stat_inode(const Inode& inode, int fd) {
  struct stat st {};
  auto rc = sys_call({"fstatat", fd},
                     [&] { return ::fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW); });
  if (!rc) return std::unexpected(rc.error());
  st.st_ino = inode.shown_ino;
  return st;
}

Result<struct stat> stat_inode(Mirror& mirror, Inode& inode) {
  auto fd = mirror.inodes().descriptor(inode);
  if (!fd) return std::unexpected(fd.error());
  return stat_inode(inode, fd->get());
}

Result<fuse_entry_param> lookup_in(Mirror& mirror, int parent_fd, const char* name) {
  auto fd =
      mirror.inodes().with_room([&] { return Fd::open_at(parent_fd, name, O_PATH | O_NOFOLLOW); });
  if (!fd) return std::unexpected(fd.error());
  return remember_entry(mirror, std::move(*fd), classify_name(name) == NameKind::plain);
}

Result<fuse_entry_param> lookup_unopened(Mirror& mirror, int parent_fd, const char* name) {
  struct stat st {};
  auto rc = sys_call({"fstatat", parent_fd},
                     [&] { return ::fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW); });
  if (!rc) return std::unexpected(rc.error());
  auto inode = mirror.inodes().remember_listed(parent_fd, name, st);
  if (!inode) return std::unexpected(inode.error());
  if (*inode == nullptr) return lookup_in(mirror, parent_fd, name);
  return entry_of(mirror, **inode, st);
}

Result<fuse_entry_param> lookup_entry(Mirror& mirror, Inode& parent, const char* name,
                                      bool* absent) {
  const NameKind kind = classify_name(name);
  if (kind == NameKind::too_long || kind == NameKind::invalid) {
    return fail_errno(unusable_name_errno(kind), "lookup");
  }
  InodeTable& table = mirror.inodes();
  auto dir = table.directory(parent);
  if (!dir) return std::unexpected(dir.error());
  // `.`, and `..` at the root (which stays at the root), are the directory itself.
  if (kind == NameKind::dot || (kind == NameKind::dot_dot && &parent == &table.root())) {
    auto self = table.with_room([&] { return Fd::open_at(dir->get(), ".", O_PATH); });
    if (!self) return std::unexpected(self.error());
    return remember_entry(mirror, std::move(*self), false);
  }
  auto entry = kind == NameKind::plain ? lookup_unopened(mirror, dir->get(), name)
                                       : lookup_in(mirror, dir->get(), name);
  if (absent != nullptr) *absent = !entry && entry.error().sys_errno() == ENOENT;
  return entry;
}

Result<fuse_entry_param> remember_entry(Mirror& mirror, Fd path, bool plain_name) {
  struct stat st {};
  auto rc = sys_call({"fstatat", path.get()}, [&] {
    return ::fstatat(path.get(), "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
  });
  if (!rc) return std::unexpected(rc.error());
  auto inode = mirror.inodes().remember(std::move(path), st, plain_name);
  if (!inode) return std::unexpected(inode.error());
  return entry_of(mirror, **inode, st);
}

fuse_entry_param entry_of(Mirror& mirror, const Inode& inode, const struct stat& st) {
  fuse_entry_param entry{};
  entry.ino = mirror.inodes().id_of(inode);
  entry.generation = inode.generation;
  entry.attr = st;
  entry.attr.st_ino = inode.shown_ino;
  entry.attr_timeout = mirror.cache_seconds();
  entry.entry_timeout = mirror.cache_seconds();
  return entry;
}

}  // namespace zc::fs
