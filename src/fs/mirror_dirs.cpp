// Callbacks for directories: opendir, readdir, readdirplus, releasedir, fsyncdir.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <expected>
#include <memory>
#include <mutex>
#include <vector>

#include "mirror.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc::fs::ops {
namespace {

// Fills `buffer` with entries; returns the bytes used, or an errno. Runs under the handle's
// lock, which must be dropped before replying: once the reply is out, the kernel may release the
// handle on another thread.
std::expected<size_t, int> fill_entries(Mirror& mirror, const Inode& inode, DirHandle& dir,
                                        fuse_req_t req, std::vector<char>& buffer, off_t off,
                                        bool plus) {
  const size_t size = buffer.size();
  const std::lock_guard lock(dir.mutex);
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
        auto found = lookup_in(mirror, ::dirfd(dir.stream), entry->d_name);
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

void read_entries(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info* fi,
                  bool plus) {
  Mirror& mirror = mirror_of(req);
  std::vector<char> buffer(size);
  auto used = fill_entries(mirror, mirror.inodes().get(ino), dir_of(fi), req, buffer, off, plus);
  if (!used) return (void)fuse_reply_err(req, used.error());
  fuse_reply_buf(req, buffer.data(), *used);
}

}  // namespace

void opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi) {
  InodeTable& table = mirror_of(req).inodes();
  auto dir = table.directory(table.get(ino));
  if (!dir) return reply_error(req, dir.error());
  auto fd = table.with_room([&] { return Fd::open_at(dir->get(), ".", O_RDONLY | O_DIRECTORY); });
  if (!fd) return reply_error(req, fd.error());
  auto handle = std::make_unique<DirHandle>();
  handle->stream = ::fdopendir(fd->get());
  if (handle->stream == nullptr) return (void)fuse_reply_err(req, errno);
  (void)fd->release();  // the stream owns it now
  OpenHandles<DirHandle>& dirs = mirror_of(req).dirs();
  fi->fh = dirs.adopt(std::move(handle));
  if (fuse_reply_open(req, fi) != 0) (void)dirs.take(fi->fh);  // the opener was interrupted
}

void readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info* fi) {
  read_entries(req, ino, size, off, fi, false);
}

void readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                 struct fuse_file_info* fi) {
  read_entries(req, ino, size, off, fi, true);
}

void releasedir(fuse_req_t req, fuse_ino_t /*ino*/, struct fuse_file_info* fi) {
  (void)mirror_of(req).dirs().take(fi->fh);
  fuse_reply_err(req, 0);
}

void fsyncdir(fuse_req_t req, fuse_ino_t /*ino*/, int datasync, struct fuse_file_info* fi) {
  DirHandle& dir = dir_of(fi);
  const int fd = ::dirfd(dir.stream);
  auto rc = datasync != 0 ? sys_call({"fdatasync", fd}, [&] { return ::fdatasync(fd); })
                          : sys_call({"fsync", fd}, [&] { return ::fsync(fd); });
  fuse_reply_err(req, rc ? 0 : rc.error().sys_errno());
}

}  // namespace zc::fs::ops
