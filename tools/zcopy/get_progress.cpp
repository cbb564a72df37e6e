#include "get_progress.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "zcopy/core/units.hpp"

namespace zc::cli {

ProgressBar::ProgressBar(const http::DownloadProgress& progress, Detail detail)
    : progress_(progress), detail_(std::move(detail)) {
  if (::isatty(STDERR_FILENO) == 1) thread_ = std::thread([this] { run(); });
}

ProgressBar::~ProgressBar() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
  std::fputs("\r\033[K", stderr);  // leave the line to the summary
}

void ProgressBar::run() {
  const auto start = std::chrono::steady_clock::now();
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, std::chrono::milliseconds(200), [this] { return stop_; })) {
    draw(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
}

void ProgressBar::draw(double elapsed_s) const {
  const std::uint64_t done = progress_.bytes_done.load(std::memory_order_relaxed);
  const std::uint64_t expected = progress_.bytes_expected.load(std::memory_order_relaxed);
  const double rate = elapsed_s > 0 ? static_cast<double>(done) / elapsed_s : 0.0;
  std::string line = "\r" + format_bytes(done);
  if (expected > 0 && done <= expected) {
    constexpr int kWidth = 30;
    const double fraction = static_cast<double>(done) / static_cast<double>(expected);
    const int filled = static_cast<int>(fraction * kWidth);
    line += " / " + format_bytes(expected) + " [" +
            std::string(static_cast<std::size_t>(filled), '=') +
            std::string(static_cast<std::size_t>(kWidth - filled), ' ') + "] ";
    line += std::to_string(static_cast<int>(fraction * 100)) + "%";
    if (rate > 0) {
      const auto eta = static_cast<long long>(static_cast<double>(expected - done) / rate);
      char text[32];
      std::snprintf(text, sizeof(text), " ETA %lld:%02lld", eta / 60, eta % 60);
      line += text;
    }
  }
  line += "  " + format_rate(rate);
  if (detail_) line += "  " + detail_(elapsed_s);
  line += "\033[K";
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

}  // namespace zc::cli
