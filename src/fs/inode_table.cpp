// The inode table: node ids are addresses of Inode objects that own O_PATH descriptors.
#include "inode_table.hpp"

namespace zc::fs {

InodeTable::InodeTable(Fd root_fd, const struct stat& root_stat) {
  root_.fd = std::move(root_fd);
  root_.dev = root_stat.st_dev;
  root_.ino = root_stat.st_ino;
  root_.type = root_stat.st_mode & S_IFMT;
  root_.lookups = 1;
}

Inode& InodeTable::get(fuse_ino_t id) noexcept {
  if (id == FUSE_ROOT_ID) return root_;
  return *reinterpret_cast<Inode*>(id);  // NOLINT: node ids are Inode addresses we handed out
}

fuse_ino_t InodeTable::id_of(Inode& inode) const noexcept {
  if (&inode == &root_) return FUSE_ROOT_ID;
  return reinterpret_cast<fuse_ino_t>(&inode);
}

Inode& InodeTable::remember(Fd fd, const struct stat& st) {
  if (st.st_dev == root_.dev && st.st_ino == root_.ino) return root_;  // SRC seen again (a bind)
  const std::lock_guard lock(mutex_);
  auto [it, inserted] = inodes_.try_emplace({st.st_dev, st.st_ino});
  if (inserted) {
    it->second = std::make_unique<Inode>();
    it->second->fd = std::move(fd);
    it->second->dev = st.st_dev;
    it->second->ino = st.st_ino;
    it->second->type = st.st_mode & S_IFMT;
  }
  ++it->second->lookups;
  return *it->second;
}

void InodeTable::forget(Inode& inode, std::uint64_t count) {
  if (&inode == &root_) return;
  const std::lock_guard lock(mutex_);
  inode.lookups = count >= inode.lookups ? 0 : inode.lookups - count;
  if (inode.lookups == 0) inodes_.erase({inode.dev, inode.ino});
}

std::size_t InodeTable::size() const {
  const std::lock_guard lock(mutex_);
  return inodes_.size();
}

}  // namespace zc::fs
