#include "zcopy/http/open_beneath.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "zcopy/core/syscall.hpp"

namespace zc::http {

Result<Fd> open_beneath(int root_fd, const std::string& relative, int flags,
                        std::uint64_t extra_resolve) {
  open_how how{};
  how.flags = static_cast<__u64>(static_cast<unsigned>(flags | O_CLOEXEC));
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | extra_resolve;
  auto fd = sys_call("openat2", [&] {
    return static_cast<int>(::syscall(SYS_openat2, root_fd, relative.c_str(), &how, sizeof how));
  });
  if (!fd)
    return std::unexpected(Error::from_errno(fd.error().sys_errno(), "openat2(" + relative + ")"));
  return Fd::adopt(*fd);
}

int status_for_open_error(const Error& error) noexcept {
  switch (error.sys_errno()) {
    case ENOENT:
    case ENOTDIR:
    case EXDEV:
    case ELOOP:
    case ENAMETOOLONG:
      return 404;
    case EACCES:
    case EPERM:
    case ENXIO:
      return 403;
    default:
      return 500;
  }
}

}  // namespace zc::http
