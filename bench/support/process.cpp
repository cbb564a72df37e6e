#include "bench/support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <utility>

namespace zc::bench {
namespace {

using Clock = std::chrono::steady_clock;

CpuTime cpu_of(const rusage& usage) {
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return {.user_s = seconds(usage.ru_utime), .system_s = seconds(usage.ru_stime)};
}

int exit_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// What the child's stdout or stderr becomes: a descriptor opened here, so that the child only
// dup2()s between fork and exec.
Result<Fd> open_output(Output output, const SpawnOptions& options) {
  if (output == Output::null) return Fd::open("/dev/null", O_WRONLY);
  if (output == Output::file) {
    const int mode = options.append ? O_APPEND : O_TRUNC;
    return Fd::open(options.file, O_WRONLY | O_CREAT | mode, 0644);
  }
  return Fd{};
}

}  // namespace

pid_t fork_call(const std::function<int()>& body) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    int code = 98;
    try {
      code = body();
    } catch (...) {
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
  return exit_code(status);
}

int run_in_child(const std::function<int()>& body) {
  const pid_t pid = fork_call(body);
  if (pid < 0) return -1;
  return reap(pid).value_or(-1);
}

Result<Process> Process::spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
  if (argv.empty()) return fail(Errc::invalid_argument, "spawn", "no program given");
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  auto out = open_output(options.out, options);
  if (!out) return std::unexpected(out.error());
  auto err = open_output(options.err, options);
  if (!err) return std::unexpected(err.error());
  Pipe output;
  if (options.out == Output::pipe || options.err == Output::pipe) {
    auto made = make_pipe();
    if (!made) return std::unexpected(made.error());
    output = std::move(*made);
  }
  // exec's errno comes back through this pipe; a successful exec closes it (O_CLOEXEC).
  auto report = make_pipe();
  if (!report) return std::unexpected(report.error());

  std::fflush(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) return fail_errno(errno, "fork(" + argv[0] + ")");
  if (pid == 0) {
    if (options.die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);  // the parent died before the request took hold
    }
    if (options.own_group) ::setpgid(0, 0);
    if (options.cpu >= 0) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(static_cast<unsigned>(options.cpu), &set);
      ::sched_setaffinity(0, sizeof set, &set);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    auto place = [&](Output how, const Fd& file, int target) {
      if (how == Output::pipe) ::dup2(output.write_end.get(), target);
      if (how == Output::null || how == Output::file) ::dup2(file.get(), target);
    };
    place(options.out, *out, STDOUT_FILENO);
    // Both into one file: one open file description, so their writes do not overwrite each other.
    if (options.err == Output::file && options.out == Output::file) {
      ::dup2(STDOUT_FILENO, STDERR_FILENO);
    } else {
      place(options.err, *err, STDERR_FILENO);
    }
    if (options.before_exec) options.before_exec();
    ::execvp(args[0], args.data());
    const int error = errno;
    [[maybe_unused]] const ssize_t n = ::write(report->write_end.get(), &error, sizeof error);
    ::_exit(127);
  }
  if (options.own_group) ::setpgid(pid, pid);  // also here, so no signal can precede it
  report->write_end.reset();
  output.write_end.reset();
  int error = 0;
  ssize_t got = 0;
  do {
    got = ::read(report->read_end.get(), &error, sizeof error);
  } while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof error)) {
    (void)zc::bench::reap(pid);
    return fail_errno(error, "exec " + argv[0],
                      error == ENOENT ? "not installed? (scripts/install-deps.sh)" : "");
  }
  return Process(pid, options.own_group, std::move(output.read_end));
}

Result<Process> Process::fork(const std::function<int()>& body) {
  const pid_t pid = fork_call(body);
  if (pid < 0) return fail_errno(errno, "fork");
  return Process(pid, false, Fd{});
}

Process::Process(Process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      group_(other.group_),
      stdout_(std::move(other.stdout_)),
      pending_(std::move(other.pending_)) {}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    kill();
    pid_ = std::exchange(other.pid_, -1);
    group_ = other.group_;
    stdout_ = std::move(other.stdout_);
    pending_ = std::move(other.pending_);
  }
  return *this;
}

Process::~Process() {
  kill();
}

std::optional<std::string> Process::read_line(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (const std::size_t end = pending_.find('\n'); end != std::string::npos) {
      std::string line = pending_.substr(0, end);
      pending_.erase(0, end + 1);
      return line;
    }
    if (!stdout_) return std::nullopt;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{.fd = stdout_.get(), .events = POLLIN, .revents = 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(0, left.count())));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return std::nullopt;
    char chunk[4096];
    const ssize_t n = ::read(stdout_.get(), chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      stdout_.reset();
      if (pending_.empty()) return std::nullopt;
      return std::exchange(pending_, {});
    }
    pending_.append(chunk, static_cast<std::size_t>(n));
  }
}

std::string Process::read_all() {
  std::string text = std::exchange(pending_, {});
  char chunk[65536];
  while (stdout_) {
    const ssize_t n = ::read(stdout_.get(), chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(chunk, static_cast<std::size_t>(n));
  }
  stdout_.reset();
  return text;
}

Exit Process::reap(int options, bool& reaped) {
  reaped = false;
  if (pid_ <= 0) return {};
  int status = 0;
  rusage usage{};
  pid_t done = 0;
  do {
    done = ::wait4(pid_, &status, options, &usage);
  } while (done < 0 && errno == EINTR);
  if (done == 0) return {};
  reaped = true;
  pid_ = -1;
  if (done < 0) return {};
  return Exit{.code = exit_code(status), .cpu = cpu_of(usage)};
}

Exit Process::wait() {
  bool reaped = false;
  return reap(0, reaped);
}

void Process::await_exit() {
  if (pid_ <= 0) return;
  siginfo_t info{};
  while (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
  }
}

std::optional<Exit> Process::try_wait() {
  bool reaped = false;
  Exit done = reap(WNOHANG, reaped);
  if (!reaped) return std::nullopt;
  return done;
}

std::optional<Exit> Process::wait_for(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  // A pidfd becomes readable when the child ends: no polling loop, no SIGCHLD handler.
  const Fd pidfd = Fd::adopt(static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)));
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (auto done = try_wait()) return done;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return std::nullopt;
    if (pidfd) {
      pollfd p{.fd = pidfd.get(), .events = POLLIN, .revents = 0};
      (void)::poll(&p, 1, static_cast<int>(left.count()));
    } else {
      std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(10)));
    }
  }
}

void Process::signal(int signal) const noexcept {
  if (pid_ <= 0) return;
  ::kill(group_ ? -pid_ : pid_, signal);
}

Exit Process::stop(int signal) {
  this->signal(signal);
  return wait();
}

void Process::kill() noexcept {
  if (pid_ <= 0) return;
  signal(SIGKILL);
  (void)wait();
}

Result<void> Process::expect_success(std::string_view what) {
  if (pid_ <= 0) return fail(Errc::invalid_argument, std::string(what), "no child to wait for");
  const Exit done = wait();
  if (done.code == 0) return {};
  const std::string how = done.code > 128 && done.code < 128 + 65
                              ? "was killed by signal " + std::to_string(done.code - 128)
                              : "exited with " + std::to_string(done.code);
  return fail(Errc::system, std::string(what), "child process " + how);
}

RunResult run(const std::vector<std::string>& argv, bool with_stderr) {
  RunResult result;
  auto child = Process::spawn(
      argv, {.out = Output::pipe, .err = with_stderr ? Output::pipe : Output::inherit});
  if (!child) {
    result.exit_code = 127;
    return result;
  }
  result.output = child->read_all();
  result.exit_code = child->wait().code;
  return result;
}

bool have_program(std::string_view name) {
  auto executable = [](const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
           ::access(path.c_str(), X_OK) == 0;
  };
  if (name.empty()) return false;
  if (name.find('/') != std::string_view::npos) return executable(std::string(name));
  const char* path = std::getenv("PATH");
  const std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  for (std::size_t from = 0; from <= dirs.size();) {
    const std::size_t colon = std::min(dirs.find(':', from), dirs.size());
    const std::string_view dir = dirs.substr(from, colon - from);
    if (executable((dir.empty() ? std::string(".") : std::string(dir)) + "/" + std::string(name)))
      return true;
    from = colon + 1;
  }
  return false;
}

std::string self_executable() {
  char path[4096];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  return n > 0 ? std::string(path, static_cast<std::size_t>(n)) : "/proc/self/exe";
}

}  // namespace zc::bench
