// Callbacks for directories: opendir, readdir, readdirplus, releasedir, fsyncdir.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <expected>
#include <memory>
#include <vector>

#include "mirror.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc::fs::ops {
namespace {

// A directory stream opened for one READDIR(PLUS) or FSYNCDIR request (see open_listing).
struct DirHandle {
  DIR* stream = nullptr;  // owned
  off_t offset = 0;       // the offset the next entry read from `stream` follows
  DirHandle() = default;
  DirHandle(const DirHandle&) = delete;
  DirHandle& operator=(const DirHandle&) = delete;
  ~DirHandle() {
    if (stream != nullptr) ::closedir(stream);
  }
};

// lookup_in() for a name just listed in `dir_fd`: a stat and a handle by name, without opening
// the entry (it is seldom wanted again soon: a listed directory is opened through its handle
// when it is listed in turn), where the table can show the handle is of the stat's file.
Result<fuse_entry_param> lookup_listed(Mirror& mirror, int dir_fd, const char* name) {
  struct stat st {};
  auto rc = sys_call({"fstatat", dir_fd},
                     [&] { return ::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW); });
  if (!rc) return std::unexpected(rc.error());
  auto inode = mirror.inodes().remember_listed(dir_fd, name, st);
  if (!inode) return std::unexpected(inode.error());
  if (*inode == nullptr) return lookup_in(mirror, dir_fd, name);
  return entry_of(mirror, **inode, st);
}

// Fills `buffer` with entries from `dir`, a listing this request alone uses; returns the bytes
// used, or an errno.
std::expected<size_t, int> fill_entries(Mirror& mirror, const Inode& inode, DirHandle& dir,
                                        fuse_req_t req, std::vector<char>& buffer, off_t off,
                                        bool plus) {
  const size_t size = buffer.size();
  if (off != dir.offset) {
    if (off == 0) {
      ::rewinddir(dir.stream);
    } else {
      ::seekdir(dir.stream, off);
    }
    dir.offset = off;
  }
  size_t used = 0;
  for (;;) {
    errno = 0;
    struct dirent* entry = ::readdir(dir.stream);
    if (entry == nullptr) {
      if (errno != 0 && used == 0) return std::unexpected(errno);
      break;
    }
    const NameKind kind = classify_name(entry->d_name);
    const std::uint64_t shown = inode.device->shown_ino(entry->d_ino);
    const auto d_ino = static_cast<ino_t>(shown != 0 ? shown : entry->d_ino);
    size_t length = 0;
    if (plus) {
      fuse_entry_param param{};
      bool looked_up = false;
      if (kind == NameKind::plain) {
        auto found = lookup_listed(mirror, ::dirfd(dir.stream), entry->d_name);
        if (found) {
          param = *found;
          looked_up = true;
        } else if (found.error().sys_errno() == ENOENT) {
          continue;  // gone since readdir saw it
        } else {
          // Listed all the same, without attributes (node id 0), as a native listing would list
          // it: whoever stats it then gets the error.
          param.attr.st_ino = d_ino;
          param.attr.st_mode = static_cast<mode_t>(entry->d_type) << 12;
        }
      } else {
        param.attr.st_ino = d_ino;
        param.attr.st_mode = static_cast<mode_t>(entry->d_type) << 12;
      }
      length = fuse_add_direntry_plus(req, buffer.data() + used, size - used, entry->d_name, &param,
                                      entry->d_off);
      if (length > size - used) {
        // Full: the kernel does not learn of this entry, so neither does the table.
        if (looked_up) mirror.inodes().forget(mirror.inodes().get(param.ino), 1);
        ::seekdir(dir.stream, dir.offset);
        break;
      }
    } else {
      struct stat st {};
      st.st_ino = d_ino;
      st.st_mode = static_cast<mode_t>(entry->d_type) << 12;
      length = fuse_add_direntry(req, buffer.data() + used, size - used, entry->d_name, &st,
                                 entry->d_off);
      if (length > size - used) {
        ::seekdir(dir.stream, dir.offset);
        break;
      }
    }
    used += length;
    dir.offset = entry->d_off;
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
Result<std::unique_ptr<DirHandle>> open_listing(InodeTable& table, Inode& inode) {
  auto dir = table.directory(inode);
  if (!dir) return std::unexpected(dir.error());
  auto fd = table.with_room([&] { return Fd::open_at(dir->get(), ".", O_RDONLY | O_DIRECTORY); });
  if (!fd) return std::unexpected(fd.error());
  auto handle = std::make_unique<DirHandle>();
  handle->stream = ::fdopendir(fd->get());
  if (handle->stream == nullptr) {
    return std::unexpected(Error::from_errno(errno, "fdopendir", "a directory of SRC"));
  }
  (void)fd->release();  // the stream owns it now
  return handle;
}

void read_entries(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus) {
  Mirror& mirror = mirror_of(req);
  Inode& inode = mirror.inodes().get(ino);
  auto listing = open_listing(mirror.inodes(), inode);
  if (!listing) return reply_error(req, listing.error());
  std::vector<char> buffer(size);
  auto used = fill_entries(mirror, inode, **listing, req, buffer, off, plus);
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
  const int fd = ::dirfd((*listing)->stream);
  auto rc = datasync != 0 ? sys_call({"fdatasync", fd}, [&] { return ::fdatasync(fd); })
                          : sys_call({"fsync", fd}, [&] { return ::fsync(fd); });
  fuse_reply_err(req, rc ? 0 : rc.error().sys_errno());
}

}  // namespace zc::fs::ops
