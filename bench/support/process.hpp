// bench/support/process.hpp: child processes for the benchmarks, the demo and the tests: a program
// started with its argv (never a shell line pieced together from strings), or a function run in a
// forked child; waited for (with a timeout if need be), signalled, killed and reaped; its output
// captured.
//
//   auto curl = zc::bench::Process::spawn({"curl", "-sS", "-o", "/dev/null", url},
//                                         {.out = Output::file, .err = Output::file, .file = log});
//   if (!curl) return std::unexpected(curl.error());   // "exec curl: ... [ENOENT]" when missing
//   const zc::bench::Exit done = curl->wait();          // exit code and curl's own CPU time
//
// A Process owns its child: the destructor kills one still running (with its group, if it has
// one) and reaps it, so a benchmark or a test that fails halfway leaks nothing.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zcopy/core/error.hpp"
#include "zcopy/core/fd.hpp"
#include "zcopy/core/transfer_ledger.hpp"

namespace zc::bench {

// How a child ended: its exit code, or 128 + the number of the signal that killed it; and the CPU
// time it and the descendants it reaped used (wait4's rusage).
struct Exit {
  int code = -1;
  CpuTime cpu{};
  bool ok() const noexcept { return code == 0; }
};

// Where a child's stdout or stderr goes.
enum class Output {
  null,     // /dev/null
  inherit,  // ours
  file,     // SpawnOptions::file (stdout and stderr share it when both say so)
  pipe,     // a pipe this side reads (read_line, read_all); stderr joins stdout's pipe
};

struct SpawnOptions {
  Output out = Output::null;
  Output err = Output::null;
  std::string file{};   // for Output::file
  bool append = false;  // append to `file` instead of truncating it
  // A process group of its own: signals then reach everything it started (nginx's workers).
  bool own_group = false;
  int cpu = -1;  // >= 0: pinned to that CPU, and so is every process it starts
  // SIGKILLed by the kernel when the thread that started it ends (PR_SET_PDEATHSIG): for servers
  // that must not outlive a test or a bench that crashed. Start such a child from a thread that
  // lives as long as the child should.
  bool die_with_parent = false;
  // Runs in the child just before exec; async-signal-safe calls only (the parent may have threads).
  std::function<void()> before_exec{};
};

class Process {
 public:
  // Starts argv[0], searched in PATH. Fails with exec's errno when the program cannot run.
  static Result<Process> spawn(const std::vector<std::string>& argv,
                               const SpawnOptions& options = {});
  // Forks; the child runs `body` and _exits with its value (98 if it throws). Buffered output is
  // flushed first, so the child cannot print it a second time.
  static Result<Process> fork(const std::function<int()>& body);

  Process() = default;
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  pid_t pid() const noexcept { return pid_; }
  // Started and not reaped yet.
  bool running() const noexcept { return pid_ > 0; }

  // The next line of a piped stdout, without its newline; nullopt at end of output or when no
  // whole line came within `timeout`.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  // Everything left on a piped stdout, up to its end.
  std::string read_all();

  // Reaps the child once it ends.
  Exit wait();
  // Waits until the child has ended but leaves it unreaped, so that its /proc entry (its I/O
  // counters, faults and CPU) can still be read; wait() then reaps it.
  void await_exit();
  // The same, but gives up after `timeout`: nullopt while it still runs.
  std::optional<Exit> wait_for(std::chrono::milliseconds timeout);
  // Reaps it only if it already ended.
  std::optional<Exit> try_wait();
  // Sends `signal` to the child (to its group with own_group); nothing once reaped.
  void signal(int signal) const noexcept;
  // Sends `signal` and reaps.
  Exit stop(int signal = SIGTERM);
  // SIGKILL (to the group with own_group), then reap.
  void kill() noexcept;
  // Reaps it; an error naming `what` unless it exited with 0.
  Result<void> expect_success(std::string_view what);

 private:
  Process(pid_t pid, bool group, Fd out) noexcept
      : pid_(pid), group_(group), stdout_(std::move(out)) {}
  Exit reap(int options, bool& reaped);

  pid_t pid_ = -1;
  bool group_ = false;
  Fd stdout_;
  std::string pending_;  // read from stdout, not handed out yet
};

// Runs argv to its end with its output captured: stdout, and stderr too when `with_stderr`
// (otherwise stderr is ours). Exit code 127 when the program cannot run.
struct RunResult {
  int exit_code = -1;
  std::string output{};
};
RunResult run(const std::vector<std::string>& argv, bool with_stderr = true);

// True when `name` is an executable file in PATH (or, with a '/', at that path).
bool have_program(std::string_view name);

// The path of the running executable (readlink /proc/self/exe), so a child can run this binary
// again also through `ip netns exec`.
std::string self_executable();

// The forked-function primitives Process is made of, for tests that track plain pids: fork_call
// returns the child's pid (-1 when fork fails); reap returns its exit code, 128 + the signal that
// killed it, or nullopt while it runs (no_hang) or when it cannot be waited for.
pid_t fork_call(const std::function<int()>& body);
std::optional<int> reap(pid_t pid, bool no_hang = false);
// fork_call, then reap: the child's exit code, -1 when it could not run.
int run_in_child(const std::function<int()>& body);

}  // namespace zc::bench
