// tests/http/get_tool_process.hpp: the zcopy tool run as a user runs it, for tests that signal it.
//
//   zc::test::ToolProcess get({"get", "-o", out, url}, dir);
//   ... wait for out.part to grow ...
//   get.signal(SIGINT);
//   int code = get.wait(std::chrono::seconds(20));   // -1 if it had to be killed
//   get.stderr_text();
//
// stdout and stderr go to files in `dir`. The destructor kills and reaps a child still running.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "client_test_servers.hpp"
#include "support/child_process.hpp"
#include "support/shell_command.hpp"

namespace zc::test {

class ToolProcess {
 public:
  ToolProcess(const std::vector<std::string>& args, const std::string& dir)
      : out_(dir + "/tool-" + std::to_string(++count()) + ".out"), err_(out_ + ".err") {
    std::vector<std::string> argv = {zcopy_tool()};
    argv.insert(argv.end(), args.begin(), args.end());
    pid_ = spawn([&]() -> int {
      const int out = ::open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      const int err = ::open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      ::dup2(out, STDOUT_FILENO);
      ::dup2(err, STDERR_FILENO);
      std::vector<char*> raw;
      for (const std::string& a : argv) raw.push_back(const_cast<char*>(a.c_str()));
      raw.push_back(nullptr);
      ::execv(raw[0], raw.data());
      return 127;
    });
  }
  ~ToolProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      reap(pid_);
    }
  }
  ToolProcess(const ToolProcess&) = delete;
  ToolProcess& operator=(const ToolProcess&) = delete;

  void signal(int number) const {
    if (pid_ > 0) ::kill(pid_, number);
  }
  // The exit code (128 + N when killed by signal N); -1 when still running after `limit`, in
  // which case it is killed.
  int wait(std::chrono::seconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (pid_ > 0) {
      if (auto code = reap(pid_, true)) {
        pid_ = -1;
        return *code;
      }
      if (std::chrono::steady_clock::now() > until) {
        ::kill(pid_, SIGKILL);
        reap(pid_);
        pid_ = -1;
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }
  std::string stdout_text() const { return read_file(out_); }
  std::string stderr_text() const { return read_file(err_); }

 private:
  static int& count() {
    static int n = 0;
    return n;
  }
  std::string out_;
  std::string err_;
  pid_t pid_ = -1;
};

// Waits until `condition` holds, polling, for at most `limit`.
template <typename Condition>
bool eventually(Condition condition, std::chrono::seconds limit = std::chrono::seconds(30)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace zc::test
