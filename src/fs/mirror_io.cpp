// Callbacks that move file data when the kernel does not do it itself: read, write_buf,
// fallocate, copy_file_range, lseek. Splice mode answers reads with a descriptor-backed buffer
// that libfuse splices file -> pipe -> /dev/fuse, and takes writes spliced out of /dev/fuse;
// copy mode goes through a buffer in the daemon.
#include <fcntl.h>
#include <unistd.h>

#include <vector>

#include "caller.hpp"
#include "mirror.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc::fs::ops {
namespace {

// One fd-backed buffer at `pos` in `fd`: what FUSE_BUFVEC_INIT builds, without its C compound
// literal (which clang refuses in C++ under -Wpedantic).
fuse_bufvec file_bufvec(size_t size, int fd, off_t pos) {
  fuse_bufvec vec{};
  vec.count = 1;
  vec.buf[0].size = size;
  vec.buf[0].flags = static_cast<fuse_buf_flags>(FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK);
  vec.buf[0].fd = fd;
  vec.buf[0].pos = pos;
  return vec;
}

}  // namespace

void read(fuse_req_t req, fuse_ino_t /*ino*/, size_t size, off_t off, struct fuse_file_info* fi) {
  Mirror& mirror = mirror_of(req);
  const int fd = file_of(fi).fd.get();
  mirror.reads.fetch_add(1, std::memory_order_relaxed);
  if (mirror.requested_mode() == MountMode::copy) {
    thread_local std::vector<char> buffer;
    if (buffer.size() < size) buffer.resize(size);
    size_t filled = 0;
    while (filled < size) {
      auto n = sys_call({"pread", fd}, [&] {
        return ::pread(fd, buffer.data() + filled, size - filled, off + static_cast<off_t>(filled));
      });
      if (!n) return reply_error(req, n.error());
      if (*n == 0) break;
      filled += static_cast<size_t>(*n);
    }
    mirror.read_bytes.fetch_add(filled, std::memory_order_relaxed);
    fuse_reply_buf(req, buffer.data(), filled);
    return;
  }
  mirror.read_bytes.fetch_add(size, std::memory_order_relaxed);  // requested: EOF may cut it
  fuse_bufvec data = file_bufvec(size, fd, off);
  fuse_reply_data(req, &data, FUSE_BUF_SPLICE_MOVE);
}

void write_buf(fuse_req_t req, fuse_ino_t /*ino*/, struct fuse_bufvec* in, off_t off,
               struct fuse_file_info* fi) {
  Mirror& mirror = mirror_of(req);
  fuse_bufvec out = file_bufvec(fuse_buf_size(in), file_of(fi).fd.get(), off);
  // A pipe in `in` (spliced from /dev/fuse) is spliced on into the file.
  const auto flags = mirror.requested_mode() == MountMode::copy
                         ? FUSE_BUF_NO_SPLICE
                         : static_cast<fuse_buf_copy_flags>(0);
  const ssize_t n = [&] {
    const ActAsWriter as_writer(req);
    return fuse_buf_copy(&out, in, flags);
  }();
  if (n < 0) return (void)fuse_reply_err(req, static_cast<int>(-n));
  mirror.writes.fetch_add(1, std::memory_order_relaxed);
  mirror.write_bytes.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
  fuse_reply_write(req, static_cast<size_t>(n));
}

void fallocate(fuse_req_t req, fuse_ino_t /*ino*/, int mode, off_t offset, off_t length,
               struct fuse_file_info* fi) {
  const int fd = file_of(fi).fd.get();
  const ActAsWriter as_writer(req);
  auto rc = sys_call({"fallocate", fd}, [&] { return ::fallocate(fd, mode, offset, length); });
  fuse_reply_err(req, rc ? 0 : rc.error().sys_errno());
}

void copy_file_range(fuse_req_t req, fuse_ino_t /*ino_in*/, off_t off_in,
                     struct fuse_file_info* fi_in, fuse_ino_t /*ino_out*/, off_t off_out,
                     struct fuse_file_info* fi_out, size_t len, int flags) {
  const int in = file_of(fi_in).fd.get();
  const int out = file_of(fi_out).fd.get();
  loff_t from = off_in;
  loff_t to = off_out;
  // The source filesystem copies (or reflinks) the range; no byte passes through us.
  auto n = [&] {
    const ActAsWriter as_writer(req);
    return sys_call({"copy_file_range", in}, [&] {
      return ::copy_file_range(in, &from, out, &to, len, static_cast<unsigned>(flags));
    });
  }();
  if (!n) return reply_error(req, n.error());
  fuse_reply_write(req, static_cast<size_t>(*n));
}

void lseek(fuse_req_t req, fuse_ino_t /*ino*/, off_t off, int whence, struct fuse_file_info* fi) {
  const int fd = file_of(fi).fd.get();
  auto pos = sys_call({"lseek", fd}, [&] { return ::lseek(fd, off, whence); });
  if (!pos) return reply_error(req, pos.error());
  fuse_reply_lseek(req, *pos);
}

}  // namespace zc::fs::ops
