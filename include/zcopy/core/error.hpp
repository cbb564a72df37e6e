// zcopy/core/error.hpp: the error every zcopy call returns instead of throwing.
//
// An Error says what failed ("mlock(64.0 MiB)"), why (an errno, or a zcopy code when the cause
// is not a system call), and optionally a detail that tells the user what to do. It prints as
// one line, which is what the command-line tool shows:
//
//   zc::Result<zc::Fd> fd = zc::open_file(path);
//   if (!fd) std::fprintf(stderr, "%s\n", fd.error().message().c_str());
//
// Result<T> is std::expected<T, Error>. g++ 12 has std::expected but not its monadic operations,
// so code tests and unwraps explicitly.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace zc {

// Why an operation failed when the answer is not simply an errno.
enum class Errc : std::uint8_t {
  system,              // a system call failed; Error::sys_errno() holds the errno
  invalid_argument,    // the caller asked for something that cannot be done
  capability_missing,  // the kernel, a privilege or a device lacks a feature we need
  limit_exceeded,      // a resource limit (rlimit, configured bound) forbids it
  corrupt,             // shared memory or outside input failed validation
  exhausted,           // a pool or ring has nothing free right now
  rejected,            // a peer or input was refused (credentials, bogus index)
  timeout,             // waited as long as allowed
  closed,              // the peer or stream is gone
  usage,               // a command line asked for what cannot be (a bad value, a missing argument)
};

std::string_view to_string(Errc code) noexcept;

class Error {
 public:
  // An error from a failed system call. `operation` names the call and its main argument.
  static Error from_errno(int errno_value, std::string operation, std::string detail = {});
  // An error that is not (only) an errno.
  static Error make(Errc code, std::string operation, std::string detail);

  Errc code() const noexcept { return code_; }
  // The errno behind the error, or 0 when there is none.
  int sys_errno() const noexcept { return errno_; }
  const std::string& operation() const noexcept { return operation_; }
  const std::string& detail() const noexcept { return detail_; }

  // One line: "operation: detail (strerror) [ENAME]".
  std::string message() const;

  // The same error with a caller's context in front ("attach pool: mmap(...): ...").
  Error with_context(std::string_view context) &&;

 private:
  Error(Errc code, int errno_value, std::string operation, std::string detail)
      : code_(code),
        errno_(errno_value),
        operation_(std::move(operation)),
        detail_(std::move(detail)) {}

  Errc code_;
  int errno_;
  std::string operation_;
  std::string detail_;
};

template <class T>
using Result = std::expected<T, Error>;

// Shorthands for returning failures from a function that returns Result<T>.
inline std::unexpected<Error> fail(Errc code, std::string operation, std::string detail) {
  return std::unexpected(Error::make(code, std::move(operation), std::move(detail)));
}
inline std::unexpected<Error> fail_errno(int errno_value, std::string operation,
                                         std::string detail = {}) {
  return std::unexpected(Error::from_errno(errno_value, std::move(operation), std::move(detail)));
}

// `error`, from a call given nothing but what a user typed: Errc::invalid_argument is then the
// user's mistake, Errc::usage; any other error is returned as it is.
inline std::unexpected<Error> as_usage(Error error) {
  if (error.code() != Errc::invalid_argument) return std::unexpected(std::move(error));
  return fail(Errc::usage, "", error.message());
}

}  // namespace zc
