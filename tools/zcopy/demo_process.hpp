// tools/zcopy/demo_process.hpp: small helpers the demo sections share: a forked child with a
// result, and a stopwatch.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>

#include "zcopy/core/error.hpp"

namespace zc::cli {

// Forks; the child runs `body` and _exits with its value. wait() reaps it and fails unless it
// exited with 0.
class DemoChild {
 public:
  static Result<DemoChild> spawn(const std::function<int()>& body);
  DemoChild(DemoChild&& other) noexcept : pid_(other.pid_) { other.pid_ = -1; }
  DemoChild(const DemoChild&) = delete;
  DemoChild& operator=(const DemoChild&) = delete;
  DemoChild& operator=(DemoChild&&) = delete;
  ~DemoChild();  // kills and reaps a child that was never waited for
  Result<void> wait(const char* what);
  // SIGKILL, then reap: for demonstrating how peers cope with a process that dies abruptly.
  void kill() noexcept;

 private:
  explicit DemoChild(pid_t pid) : pid_(pid) {}
  pid_t pid_;
};

class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double elapsed_ns() const {
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start_)
        .count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace zc::cli
