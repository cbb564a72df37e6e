#include "demo_process.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <string>

namespace zc::cli {

Result<DemoChild> DemoChild::spawn(const std::function<int()>& body) {
  std::fflush(nullptr);  // the child must not flush our buffered output a second time
  const pid_t pid = ::fork();
  if (pid < 0) return fail_errno(errno, "fork");
  if (pid == 0) ::_exit(body());
  return DemoChild(pid);
}

DemoChild::~DemoChild() {
  kill();
}

void DemoChild::kill() noexcept {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

Result<void> DemoChild::wait(const char* what) {
  int status = 0;
  pid_t reaped = -1;
  do {
    reaped = ::waitpid(pid_, &status, 0);
  } while (reaped < 0 && errno == EINTR);
  pid_ = -1;
  if (reaped < 0) return fail_errno(errno, std::string("waitpid(") + what + ")");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  const std::string how = WIFEXITED(status)
                              ? "exited with " + std::to_string(WEXITSTATUS(status))
                              : "was killed by signal " + std::to_string(WTERMSIG(status));
  return fail(Errc::system, what, "child process " + how);
}

}  // namespace zc::cli
