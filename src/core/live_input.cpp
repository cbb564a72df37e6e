// Waiting for input in poll() and then reading what is there, never blocking in read().
#include "zcopy/core/live_input.hpp"

#include <poll.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>

#include "zcopy/core/syscall.hpp"

namespace zc {

LiveInput::LiveInput(int fd) noexcept : fd_(fd) {
  struct stat info {};
  file_ = ::fstat(fd, &info) == 0 && (S_ISREG(info.st_mode) || S_ISBLK(info.st_mode));
}

Result<void> LiveInput::wait(int other, const std::function<void()>& on_other) {
  if (file_) return {};
  for (;;) {
    std::array<pollfd, 2> fds{pollfd{fd_, POLLIN, 0}, pollfd{other, POLLIN, 0}};
    auto ready = sys_call({"poll", fd_}, [&] { return ::poll(fds.data(), fds.size(), -1); });
    if (!ready) return std::unexpected(ready.error());
    if (fds[1].revents != 0) on_other();
    // POLLHUP (the writer went away) and POLLERR count as ready: the read reports them.
    if (fds[0].revents != 0) return {};
  }
}

Result<std::size_t> LiveInput::read_some(std::span<std::byte> buffer) {
  auto n = sys_call({"read", fd_}, [&] { return ::read(fd_, buffer.data(), buffer.size()); });
  if (!n) return std::unexpected(n.error());
  return static_cast<std::size_t>(*n);
}

Result<std::size_t> LiveInput::read_now(std::span<std::byte> buffer) {
  if (nowait_) {
    iovec io{buffer.data(), buffer.size()};
    // Offset -1: from the current position, as read() does.
    auto n = sys_call({"preadv2(RWF_NOWAIT)", fd_},
                      [&] { return ::preadv2(fd_, &io, 1, -1, RWF_NOWAIT); });
    if (n) return static_cast<std::size_t>(*n);
    const int err = n.error().sys_errno();
    if (err == EAGAIN) return 0;
    // A descriptor (a terminal, say) or kernel without RWF_NOWAIT: ask poll() instead.
    if (err != EOPNOTSUPP && err != EINVAL && err != ENOSYS) return std::unexpected(n.error());
    nowait_ = false;
  }
  pollfd in{fd_, POLLIN, 0};
  auto ready = sys_call({"poll", fd_}, [&] { return ::poll(&in, 1, 0); });
  if (!ready) return std::unexpected(ready.error());
  if (*ready == 0) return 0;
  return read_some(buffer);
}

Result<std::size_t> LiveInput::fill(std::span<std::byte> buffer) {
  std::size_t filled = 0;
  for (;;) {
    // The first read cannot wait for a writer (wait() found the input ready), nor can a read of
    // a file; after that, only what is already there is taken, so a bulk input fills whole
    // buffers. An end of input met after the first read is met again by the next fill().
    const auto rest = buffer.subspan(filled);
    auto n = filled == 0 || file_ ? read_some(rest) : read_now(rest);
    if (!n) return std::unexpected(n.error());
    filled += *n;
    if (*n == 0 || filled == buffer.size()) return filled;
  }
}

}  // namespace zc
