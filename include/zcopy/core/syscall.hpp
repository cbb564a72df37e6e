// zcopy/core/syscall.hpp: the one place that calls into the kernel and turns failure into an Error.
//
// `sys_call` runs a system call, retries it while it fails with EINTR, and on any other failure
// returns an Error naming the call and, when given, the file descriptor it acted on:
//
//   auto n = zc::sys_call({"sendfile", out_fd},
//                         [&] { return ::sendfile(out_fd, in_fd, &off, len); });
//   if (!n) return std::unexpected(n.error());  // "sendfile(fd 7): ... [ECONNRESET]"
//
// The call must follow the kernel convention of returning -1 and setting errno on failure.
//
// On a non-blocking descriptor (or one with a receive timeout) "not now" is an answer, not a
// failure: `try_sys_call` returns an empty optional for EAGAIN/EWOULDBLOCK.
//
//   auto n = zc::try_sys_call({"send", fd}, [&] { return ::send(fd, p, len, MSG_NOSIGNAL); });
//   if (!n) return std::unexpected(n.error());
//   if (!*n) return wait_for_room();
#pragma once

#include <cerrno>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "zcopy/core/error.hpp"

namespace zc {

// Names a system call for error messages without building a string on the success path.
struct SysOp {
  SysOp(const char* call_name)
      : name(call_name) {}  // NOLINT(google-explicit-constructor): reads as a name
  SysOp(const char* call_name, int call_fd) : name(call_name), fd(call_fd) {}

  std::string describe() const {
    std::string text(name);
    if (fd >= 0) text += "(fd " + std::to_string(fd) + ")";
    return text;
  }

  const char* name;
  int fd = -1;
};

template <class Call>
auto sys_call(SysOp op, Call&& call) -> Result<std::invoke_result_t<Call>> {
  for (;;) {
    auto rc = call();
    if (rc != -1) return rc;
    if (errno != EINTR) return std::unexpected(Error::from_errno(errno, op.describe()));
  }
}

// Whether `errno_value` only says the call would have blocked (or its timeout passed first).
constexpr bool would_block(int errno_value) noexcept {
  return errno_value == EAGAIN || errno_value == EWOULDBLOCK;
}

template <class Call>
auto try_sys_call(SysOp op, Call&& call) -> Result<std::optional<std::invoke_result_t<Call>>> {
  for (;;) {
    auto rc = call();
    if (rc != -1) return rc;
    if (errno == EINTR) continue;
    if (would_block(errno)) return std::nullopt;
    return std::unexpected(Error::from_errno(errno, op.describe()));
  }
}

}  // namespace zc
