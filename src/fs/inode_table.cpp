// The inode table: node ids are addresses of Inode objects that hold a file handle or an O_PATH
// descriptor, found by (st_dev, st_ino).
#include "inode_table.hpp"

#include <unistd.h>

#include <vector>

#include "zcopy/core/syscall.hpp"

namespace zc::fs {
namespace {

// What the kernel spells for the inode `fd` holds (readlink of /proc/self/fd/N).
std::string kernel_path(int fd) {
  std::string path(256, '\0');
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  for (;;) {
    const ssize_t n = ::readlink(link.c_str(), path.data(), path.size());
    if (n < 0) return {};
    if (static_cast<std::size_t>(n) < path.size()) {
      path.resize(static_cast<std::size_t>(n));
      return path;
    }
    path.resize(path.size() * 2);
  }
}

bool starts_below(const std::string& path, const std::string& root) {
  if (root == "/") return !path.empty() && path.front() == '/';
  return path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
         path[root.size()] == '/';
}

}  // namespace

Inode::~Inode() {
  if (handle.empty() && fd >= 0) ::close(fd);
}

InodeTable::InodeTable(Fd root_fd, const struct stat& root_stat, Options options)
    : devices_(root_fd.get(), root_stat, std::move(options.log)),
      descriptors_(options.descriptor_capacity) {
  root_.dev = root_stat.st_dev;
  root_.ino = root_stat.st_ino;
  root_.shown_ino = root_stat.st_ino;
  root_.type = root_stat.st_mode & S_IFMT;
  root_.device = &devices_.root();
  root_.lookups = 1;
  root_path_ = kernel_path(root_fd.get());
  (void)InodeHandle::of(root_fd.get(), &root_mount_id_);  // stays -1 without handles
  root_.fd = root_fd.release();                           // held for life: the root has no handle
}

InodeTable::~InodeTable() {
  // The connection is gone; every inode goes, and with it its descriptor.
  for (auto& [key, inode] : inodes_) (void)descriptors_.drop(*inode);
  for (auto& [address, inode] : replaced_) (void)descriptors_.drop(*inode);
}

Inode& InodeTable::get(fuse_ino_t id) noexcept {
  if (id == FUSE_ROOT_ID) return root_;
  return *reinterpret_cast<Inode*>(id);  // NOLINT: node ids are Inode addresses we handed out
}

fuse_ino_t InodeTable::id_of(const Inode& inode) const noexcept {
  if (&inode == &root_) return FUSE_ROOT_ID;
  return reinterpret_cast<fuse_ino_t>(&inode);
}

bool InodeTable::same_file(const Inode& existing, const struct stat& st,
                           const InodeHandle& handle) {
  if (existing.type != (st.st_mode & S_IFMT)) return false;
  if (!existing.handle.empty() && !handle.empty()) return existing.handle == handle;
  if (!existing.handle.empty()) return true;  // no handle this time: nothing to compare
  // A held descriptor keeps a local inode alive, so its number cannot have been reused; on a
  // network or FUSE source the old file answers ESTALE (or is gone) once the number was.
  struct stat held {};
  if (::fstat(existing.fd, &held) != 0) return false;
  return held.st_dev == st.st_dev && held.st_ino == st.st_ino &&
         (held.st_nlink != 0 || S_ISDIR(held.st_mode));
}

std::unique_ptr<Inode> InodeTable::make_inode(const struct stat& st, SourceDevice& device,
                                              InodeHandle handle) {
  auto inode = std::make_unique<Inode>();
  inode->dev = st.st_dev;
  inode->ino = st.st_ino;
  inode->shown_ino = device.shown_ino(st.st_ino);
  if (inode->shown_ino == 0) {
    inode->shown_ino = (std::uint64_t{1} << 63) | (own_numbers_.fetch_add(1) + 1);
  }
  inode->generation = generations_.fetch_add(1, std::memory_order_relaxed) + 1;
  inode->device = &device;
  inode->handle = std::move(handle);
  inode->type = st.st_mode & S_IFMT;
  return inode;
}

Result<Inode*> InodeTable::remember(Fd fd, const struct stat& st, bool plain_name) {
  if (!plain_name && st.st_dev == root_.dev && st.st_ino == root_.ino) return &root_;
  SourceDevice& device = devices_.of(st, fd.get());
  InodeHandle handle;
  if (device.handles) {
    // A handle that cannot be had leaves this one inode held by its descriptor.
    if (auto made = InodeHandle::of(fd.get())) handle = std::move(*made);
  }
  return adopt(std::move(fd), st, device, std::move(handle));
}

Result<Inode*> InodeTable::remember_listed(int dir_fd, const char* name, const struct stat& st) {
  SourceDevice& device = devices_.root();
  if (st.st_dev != device.dev || !device.handles) return nullptr;
  int mount_id = -1;
  auto handle = InodeHandle::at(dir_fd, name, &mount_id);
  if (!handle || mount_id != root_mount_id_) return nullptr;
  // Taken after the stat: a handle carrying the same inode number is of that same file (or of
  // one that reused the number of a file deleted meanwhile, which the name now names).
  if (!handle->names_inode(st.st_ino)) return nullptr;
  return adopt(Fd{}, st, device, std::move(*handle));
}

Result<Inode*> InodeTable::adopt(Fd fd, const struct stat& st, SourceDevice& device,
                                 InodeHandle handle) {
  const Key key{st.st_dev, st.st_ino};
  for (;;) {
    Inode* existing = nullptr;
    Inode* made = nullptr;
    {
      const std::lock_guard lock(mutex_);
      auto it = inodes_.find(key);
      if (it == inodes_.end()) {
        auto inode = make_inode(st, device, std::move(handle));
        inode->lookups = 1;  // ours, which the kernel cannot forget before it has the reply
        made = inode.get();
        if (made->handle.empty()) made->fd = fd.release();  // before any other thread sees it
        inodes_.emplace(key, std::move(inode));
      } else {
        existing = it->second.get();
        ++existing->lookups;  // keeps it alive while it is checked without the lock
      }
    }
    if (made != nullptr) {
      if (fd) descriptors_.install(*made, std::move(fd));  // likely wanted again soon
      return made;
    }
    if (same_file(*existing, st, handle)) {
      if (!existing->handle.empty() && fd) descriptors_.install(*existing, std::move(fd));
      return existing;
    }
    // The number now names another file: the old inode stays for whoever holds it (as ESTALE),
    // and the name gets a new one.
    std::unique_ptr<Inode> gone;
    {
      const std::lock_guard lock(mutex_);
      auto it = inodes_.find(key);
      if (it != inodes_.end() && it->second.get() == existing) {
        replaced_.emplace(existing, std::move(it->second));
        inodes_.erase(it);
      }
      if (--existing->lookups == 0) {
        auto r = replaced_.find(existing);
        gone = std::move(r->second);
        replaced_.erase(r);
      }
    }
    destroy(std::move(gone));
  }
}

void InodeTable::forget(Inode& inode, std::uint64_t count) {
  if (&inode == &root_) return;
  std::unique_ptr<Inode> gone;
  {
    const std::lock_guard lock(mutex_);
    inode.lookups = count >= inode.lookups ? 0 : inode.lookups - count;
    if (inode.lookups != 0) return;
    if (auto it = inodes_.find({inode.dev, inode.ino});
        it != inodes_.end() && it->second.get() == &inode) {
      gone = std::move(it->second);
      inodes_.erase(it);
    } else if (auto r = replaced_.find(&inode); r != replaced_.end()) {
      gone = std::move(r->second);
      replaced_.erase(r);
    }
  }
  destroy(std::move(gone));  // after the unlock: a last close may free a large file's blocks
}

void InodeTable::destroy(std::unique_ptr<Inode> inode) {
  if (!inode) return;
  if (!descriptors_.drop(*inode)) {
    (void)inode.release();  // still in use: the last DescriptorCache::unpin() frees it
    return;
  }
  inode.reset();  // closes a held descriptor
}

Result<InodeFd> InodeTable::descriptor(Inode& inode) {
  if (inode.handle.empty()) {
    if (&inode == &root_) return InodeFd(nullptr, &inode, inode.fd);  // never freed
    if (const int fd = descriptors_.pin(inode); fd >= 0) return InodeFd(&descriptors_, &inode, fd);
    return fail_errno(EBADF, "inode descriptor", "the inode holds no descriptor");
  }
  if (const int fd = descriptors_.pin(inode); fd >= 0) return InodeFd(&descriptors_, &inode, fd);
  auto opened = with_room([&] { return inode.handle.open(inode.device->mount_fd.get(), O_PATH); });
  if (!opened) return std::unexpected(opened.error());
  const int fd = descriptors_.install_pinned(inode, std::move(*opened));
  return InodeFd(&descriptors_, &inode, fd);
}

Result<InodeFd> InodeTable::directory(Inode& dir) {
  auto fd = descriptor(dir);
  if (!fd || &dir == &root_) return fd;
  if (!beneath_source(fd->get())) {
    return fail_errno(ENOENT, "lookup", "the directory was moved out of the mirrored tree");
  }
  return fd;
}

bool InodeTable::beneath_source(int fd) {
  const std::string path = kernel_path(fd);
  std::string root;
  {
    const std::lock_guard lock(root_path_mutex_);
    root = root_path_;
  }
  if (starts_below(path, root)) return true;
  // SRC itself may have been renamed since: ask again before refusing.
  const std::string now = kernel_path(root_.fd);
  if (now == root) return false;
  {
    const std::lock_guard lock(root_path_mutex_);
    root_path_ = now;
  }
  return starts_below(path, now);
}

std::mutex& InodeTable::backing_lock(const Inode& inode) noexcept {
  const auto address = reinterpret_cast<std::uintptr_t>(&inode);  // NOLINT: a hash of it
  return backing_locks_[(address >> 6) % backing_locks_.size()];
}

std::size_t InodeTable::size() const {
  const std::lock_guard lock(mutex_);
  return inodes_.size() + replaced_.size();
}

}  // namespace zc::fs
