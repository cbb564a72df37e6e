// Callbacks for directories: opendir, readdir, readdirplus, releasedir, fsyncdir.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <expected>
#include <vector>

#include "mirror.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc::fs::ops {
namespace {

// Fills `buffer` with the entries of `dir_fd` (opened for this request alone) from the offset
// `off`; returns the bytes used, or an errno. The entries come straight from getdents64 in one
// batch as large as the reply: no stream to set up (fdopendir costs an fstat and two fcntl), and
// no second call to learn that the directory ended (the kernel asks once more anyway, and an
// empty reply is what ends a listing), unless every entry of the batch was left out.
std::expected<size_t, int> fill_entries(Mirror& mirror, const Inode& inode, int dir_fd,
                                        fuse_req_t req, std::vector<char>& buffer, off_t off,
                                        bool plus) {
  if (off != 0 && ::lseek(dir_fd, off, SEEK_SET) < 0) return std::unexpected(errno);
  const size_t size = buffer.size();
  std::vector<char> batch(std::max<size_t>(size, 4096));
  size_t used = 0;
  while (used == 0) {
    const ssize_t got = ::getdents64(dir_fd, batch.data(), batch.size());
    if (got < 0) return std::unexpected(errno);
    if (got == 0) break;  // the end of the directory
    for (size_t at = 0; at < static_cast<size_t>(got);) {
      const auto* entry = reinterpret_cast<const struct dirent64*>(batch.data() + at);  // NOLINT
      at += entry->d_reclen;
      const NameKind kind = classify_name(entry->d_name);
      const std::uint64_t shown = inode.device->shown_ino(entry->d_ino);
      const auto d_ino = static_cast<ino_t>(shown != 0 ? shown : entry->d_ino);
      const auto type = static_cast<mode_t>(static_cast<mode_t>(entry->d_type) << 12);
      // Full: the next request starts from the last entry sent. Known before the lookup, so
      // the table never learns of an entry the kernel does not.
      const size_t need = plus ? fuse_add_direntry_plus(req, nullptr, 0, entry->d_name, nullptr, 0)
                               : fuse_add_direntry(req, nullptr, 0, entry->d_name, nullptr, 0);
      if (need > size - used) {
        if (used == 0) return std::unexpected(EINVAL);  // an empty reply would end the listing
        return used;
      }
      if (plus) {
        fuse_entry_param param{};
        param.attr.st_ino = d_ino;
        param.attr.st_mode = type;
        if (kind == NameKind::plain) {
          auto found = lookup_unopened(mirror, dir_fd, entry->d_name);
          if (found) {
            param = *found;
          } else if (found.error().sys_errno() == ENOENT) {
            continue;  // gone since getdents64 saw it
          }
          // Otherwise listed all the same, without attributes (node id 0), as a native listing
          // would list it: whoever stats it then gets the error.
        }
        used += fuse_add_direntry_plus(req, buffer.data() + used, size - used, entry->d_name,
                                       &param, entry->d_off);
      } else {
        struct stat st {};
        st.st_ino = d_ino;
        st.st_mode = type;
        used += fuse_add_direntry(req, buffer.data() + used, size - used, entry->d_name, &st,
                                  entry->d_off);
      }
    }
  }
  return used;
}

// Directories are never opened on OPENDIR: it answers ENOSYS once, after which the kernel sends
// neither OPENDIR nor RELEASEDIR (two requests fewer per listing) and every READDIR(PLUS) arrives
// with fh 0 and the offset the previous reply ended at. Each call opens the directory afresh and
// seeks there: the source's own telldir cookies (ext4 name hashes, tmpfs indices) stay valid
// across opens, as they must for NFS exports. The kernel then also caches listings itself
// (FOPEN_CACHE_DIR), dropping them when the directory changes through the mount or its mtime
// changes in SRC (seen once the attributes expire).
Result<Fd> open_listing(InodeTable& table, Inode& inode) {
  auto dir = table.directory(inode);
  if (!dir) return std::unexpected(dir.error());
  return table.with_room([&] { return Fd::open_at(dir->get(), ".", O_RDONLY | O_DIRECTORY); });
}

void read_entries(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus) {
  Mirror& mirror = mirror_of(req);
  Inode& inode = mirror.inodes().get(ino);
  auto listing = open_listing(mirror.inodes(), inode);
  if (!listing) return reply_error(req, listing.error());
  std::vector<char> buffer(size);
  auto used = fill_entries(mirror, inode, listing->get(), req, buffer, off, plus);
  if (!used) return (void)fuse_reply_err(req, used.error());
  fuse_reply_buf(req, buffer.data(), *used);
}

}  // namespace

void opendir(fuse_req_t req, fuse_ino_t /*ino*/, struct fuse_file_info* /*fi*/) {
  fuse_reply_err(req, ENOSYS);  // see open_listing
}

void readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
             struct fuse_file_info* /*fi*/) {
  read_entries(req, ino, size, off, false);
}

void readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                 struct fuse_file_info* /*fi*/) {
  read_entries(req, ino, size, off, true);
}

void releasedir(fuse_req_t req, fuse_ino_t /*ino*/, struct fuse_file_info* /*fi*/) {
  fuse_reply_err(req, 0);  // nothing was opened
}

void fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info* /*fi*/) {
  InodeTable& table = mirror_of(req).inodes();
  auto listing = open_listing(table, table.get(ino));
  if (!listing) return reply_error(req, listing.error());
  const int fd = listing->get();
  auto rc = datasync != 0 ? sys_call({"fdatasync", fd}, [&] { return ::fdatasync(fd); })
                          : sys_call({"fsync", fd}, [&] { return ::fsync(fd); });
  fuse_reply_err(req, rc ? 0 : rc.error().sys_errno());
}

}  // namespace zc::fs::ops
