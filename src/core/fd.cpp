#include "zcopy/core/fd.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "zcopy/core/syscall.hpp"

namespace zc {

Result<Fd> Fd::open(const std::string& path, int flags, unsigned mode) {
  return open_at(AT_FDCWD, path, flags, mode);
}

Result<Fd> Fd::open_at(int dir_fd, const std::string& path, int flags, unsigned mode) {
  auto fd =
      sys_call("openat", [&] { return ::openat(dir_fd, path.c_str(), flags | O_CLOEXEC, mode); });
  if (!fd) return std::unexpected(Error::from_errno(fd.error().sys_errno(), "open(" + path + ")"));
  return Fd(*fd);
}

void Fd::reset(int fd) noexcept {
  if (fd_ >= 0 && fd_ != fd) {
    // close(2) must not be retried on EINTR: the descriptor is released either way on Linux.
    ::close(fd_);
  }
  fd_ = fd;
}

Result<Fd> Fd::duplicate() const {
  auto fd =
      sys_call({"fcntl(F_DUPFD_CLOEXEC)", fd_}, [&] { return ::fcntl(fd_, F_DUPFD_CLOEXEC, 0); });
  if (!fd) return std::unexpected(fd.error());
  return Fd(*fd);
}

Result<Pipe> make_pipe(int extra_flags) {
  int ends[2] = {-1, -1};
  auto rc = sys_call("pipe2", [&] { return ::pipe2(ends, O_CLOEXEC | extra_flags); });
  if (!rc) return std::unexpected(rc.error());
  return Pipe{Fd::adopt(ends[0]), Fd::adopt(ends[1])};
}

}  // namespace zc
