#include "support/child_process.hpp"

#include <linux/capability.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <thread>

namespace zc::test {

pid_t spawn(const std::function<int()>& body) {
  std::fflush(nullptr);  // do not let the child flush the parent's buffered output a second time
  const pid_t pid = ::fork();
  if (pid == 0) {
    int code = 99;
    try {
      code = body();
    } catch (...) {
      code = 98;
    }
    ::_exit(code);
  }
  return pid;
}

std::optional<int> reap(pid_t pid, bool no_hang) {
  int status = 0;
  pid_t done = 0;
  do {
    done = ::waitpid(pid, &status, no_hang ? WNOHANG : 0);
  } while (done < 0 && errno == EINTR);
  if (done <= 0) return std::nullopt;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::optional<int> reap_within(pid_t pid, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto status = reap(pid, true)) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid, SIGKILL);
  (void)reap(pid);
  return std::nullopt;
}

int run_in_child(const std::function<int()>& body) {
  const pid_t pid = spawn(body);
  if (pid < 0) return -1;
  return reap(pid).value_or(-1);
}

bool drop_capability(int capability) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  const auto word = static_cast<unsigned>(capability) / 32;
  const auto bit = 1U << (static_cast<unsigned>(capability) % 32);
  data[word].effective &= ~bit;
  data[word].permitted &= ~bit;
  data[word].inheritable &= ~bit;
  return ::syscall(SYS_capset, &header, data) == 0;
}

}  // namespace zc::test
