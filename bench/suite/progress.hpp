// bench/suite/progress.hpp: the progress bar of `zcopy bench` on stderr: which part runs, how many
// are done, and an estimate of the time left from each part's expected duration. On a terminal
// one line is redrawn every second; otherwise a line is printed as each part starts and ends.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace zc::bench {

class Progress {
 public:
  struct Step {
    std::string name;
    double expected_s;
  };
  explicit Progress(std::vector<Step> steps);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void begin(std::size_t step);
  // `status`: "done", "skipped: why", "failed: why".
  void end(std::size_t step, const std::string& status);

 private:
  void draw();
  using Clock = std::chrono::steady_clock;
  std::vector<Step> steps_;
  bool tty_;
  Clock::time_point start_;
  std::mutex mutex_;  // protects current_, step_start_, done_s_ and the terminal line
  std::size_t current_ = 0;
  Clock::time_point step_start_;
  double done_expected_s_ = 0;  // the expected seconds of the steps finished
  std::atomic<bool> stop_{false};
  std::thread ticker_;  // redraws the line every second on a terminal
};

}  // namespace zc::bench
