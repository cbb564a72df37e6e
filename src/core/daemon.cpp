// start_daemon(): fork, report through a pipe, detach.
#include "zcopy/core/daemon.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>

#include "zcopy/core/fd.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc {
namespace {

// The child's one message: "+LINE" when it started, "-ERRC MESSAGE" when it did not.
[[noreturn]] void run_child(Fd report, const std::function<Result<std::string>()>& start,
                            const std::function<void()>& serve) {
  ::setsid();
  auto started = start();
  const std::string status = started
                                 ? "+" + *started
                                 : "-" + std::to_string(static_cast<int>(started.error().code())) +
                                       " " + started.error().message();
  [[maybe_unused]] const ssize_t n = ::write(report.get(), status.data(), status.size());
  report.reset();
  if (!started) ::_exit(1);
  const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) ::dup2(null, fd);
  serve();
  ::_exit(0);
}

}  // namespace

Result<std::string> start_daemon(std::string_view what,
                                 const std::function<Result<std::string>()>& start,
                                 const std::function<void()>& serve) {
  auto pipe = make_pipe();
  if (!pipe) return std::unexpected(pipe.error());
  auto child = sys_call("fork", [] { return ::fork(); });
  if (!child) return std::unexpected(child.error());
  if (*child == 0) {
    pipe->read_end.reset();
    run_child(std::move(pipe->write_end), start, serve);
  }
  pipe->write_end.reset();
  std::string status;
  char chunk[512];
  for (;;) {
    auto n = sys_call({"read", pipe->read_end.get()},
                      [&] { return ::read(pipe->read_end.get(), chunk, sizeof chunk); });
    if (!n || *n == 0) break;
    status.append(chunk, static_cast<std::size_t>(*n));
  }
  if (status.starts_with('+')) return status.substr(1);
  int code = 0;
  const char* end = status.data() + status.size();
  const auto parsed = status.size() > 1 ? std::from_chars(status.data() + 1, end, code)
                                        : std::from_chars_result{end, std::errc::invalid_argument};
  if (parsed.ec != std::errc{} || parsed.ptr == end || *parsed.ptr != ' ') {
    return fail(Errc::closed, std::string(what), "the daemon exited before reporting");
  }
  return fail(static_cast<Errc>(code), "", std::string(parsed.ptr + 1, end));
}

}  // namespace zc
