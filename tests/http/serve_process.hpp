// tests/http/serve_process.hpp: the zcopy tool's `serve` run as a child, as a user would run it.
//
//   zc::test::ServeProcess serve({tool, "serve", dir, "--port", "0"});
//   std::string url = serve.url();   // from its first stdout line, "serving DIR at URL"
//   int code = serve.stop();         // SIGTERM, then its exit code
//
// The destructor kills and reaps a child that is still running, so a failing test leaks nothing.
#pragma once

#include <poll.h>
#include <signal.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "http_test_support.hpp"
#include "support/shell_command.hpp"

namespace zc::test {

inline std::string tool_path() {
  return zcopy_tool();
}

class ServeProcess {
 public:
  explicit ServeProcess(const std::vector<std::string>& argv) {
    auto pipe = make_pipe();
    if (!pipe) return;
    const std::string err_path = logs_ / "stderr";
    const int write_end = pipe->write_end.get();
    pid_ = spawn([&] {
      ::dup2(write_end, STDOUT_FILENO);
      const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(err, STDERR_FILENO);
      std::vector<char*> args;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      return 127;
    });
    pipe->write_end.reset();
    stdout_ = std::move(pipe->read_end);
    // The first line, within 20 s (sanitized builds start slowly).
    std::string line;
    pollfd p{.fd = stdout_.get(), .events = POLLIN, .revents = 0};
    while (line.find('\n') == std::string::npos && ::poll(&p, 1, 20000) > 0) {
      char c[256];
      const ssize_t n = ::read(stdout_.get(), c, sizeof c);
      if (n <= 0) break;
      line.append(c, static_cast<std::size_t>(n));
    }
    first_line_ = line.substr(0, line.find('\n'));
    const std::size_t space = first_line_.rfind(' ');
    if (first_line_.rfind("serving ", 0) == 0 && space != std::string::npos)
      url_ = first_line_.substr(space + 1);
  }
  ~ServeProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      reap(pid_);
    }
  }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  const std::string& url() const { return url_; }
  const std::string& first_line() const { return first_line_; }
  std::string stderr_text() const { return read_file(logs_ / "stderr"); }

  // Sends `signal` and returns the exit code (or 128 + signal).
  int stop(int signal = SIGTERM) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, signal);
    const int code = reap(pid_).value_or(-1);
    pid_ = -1;
    return code;
  }

 private:
  TempDir logs_;
  pid_t pid_ = -1;
  Fd stdout_;
  std::string first_line_;
  std::string url_;
};

}  // namespace zc::test
