#include "bench/suite/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace zc::bench {
namespace {

std::string clock_text(double seconds) {
  const int s = static_cast<int>(std::max(0.0, seconds));
  char text[32];
  std::snprintf(text, sizeof text, "%d:%02d", s / 60, s % 60);
  return text;
}

}  // namespace

Progress::Progress(std::vector<Step> steps)
    : steps_(std::move(steps)), tty_(::isatty(STDERR_FILENO) == 1), start_(Clock::now()) {
  if (!tty_) return;
  ticker_ = std::thread([this] {
    while (!stop_.load(std::memory_order_relaxed)) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      const std::lock_guard lock(mutex_);
      draw();
    }
  });
}

Progress::~Progress() {
  stop_.store(true, std::memory_order_relaxed);
  if (ticker_.joinable()) ticker_.join();
  if (tty_) std::fputs("\n", stderr);
}

void Progress::begin(std::size_t step) {
  const std::lock_guard lock(mutex_);
  current_ = step;
  step_start_ = Clock::now();
  if (tty_) {
    draw();
  } else {
    std::fprintf(stderr, "zcopy bench: [%zu/%zu] %s ...\n", step + 1, steps_.size(),
                 steps_[step].name.c_str());
  }
}

void Progress::end(std::size_t step, const std::string& status) {
  const std::lock_guard lock(mutex_);
  done_expected_s_ += steps_[step].expected_s;
  current_ = steps_.size();  // nothing to redraw until the next step begins
  const double took = std::chrono::duration<double>(Clock::now() - step_start_).count();
  if (tty_) {
    std::fprintf(stderr, "\r\033[K  %-10s %s (%.0f s)\n", steps_[step].name.c_str(), status.c_str(),
                 took);
    draw();
  } else {
    std::fprintf(stderr, "zcopy bench: [%zu/%zu] %s %s in %.1f s\n", step + 1, steps_.size(),
                 steps_[step].name.c_str(), status.c_str(), took);
  }
}

// Called with mutex_ held.
void Progress::draw() {
  if (!tty_ || current_ >= steps_.size()) return;
  double total = 0;
  for (const Step& s : steps_) total += s.expected_s;
  const double in_step = std::chrono::duration<double>(Clock::now() - step_start_).count();
  const double done = done_expected_s_ + std::min(in_step, steps_[current_].expected_s * 0.95);
  const double fraction = total > 0 ? std::min(1.0, done / total) : 0;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar += std::string(static_cast<std::size_t>(kWidth - filled), '.');
  const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  std::fprintf(stderr, "\r\033[K[%s] %zu/%zu %s  %s elapsed, about %s left", bar.c_str(),
               current_ + 1, steps_.size(), steps_[current_].name.c_str(),
               clock_text(elapsed).c_str(), clock_text(total - done).c_str());
  std::fflush(stderr);
}

}  // namespace zc::bench
