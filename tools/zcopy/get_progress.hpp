// tools/zcopy/get_progress.hpp: the progress bar `zcopy get` draws on a terminal.
//
// A background thread redraws one stderr line (bytes, percent, rate, ETA) five times a second
// from the downloads' relaxed counters, and erases it when stopped. Off a terminal it draws
// nothing: the command prints one summary line per file instead.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "zcopy/http/client/download.hpp"

namespace zc::cli {

class ProgressBar {
 public:
  // What follows the bar, given the seconds since the start (each source's rate and share).
  using Detail = std::function<std::string(double elapsed_s)>;

  // Draws only when stderr is a terminal; `detail` is called from the drawing thread.
  explicit ProgressBar(const http::DownloadProgress& progress, Detail detail = {});
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

 private:
  void run();
  void draw(double elapsed_s) const;

  const http::DownloadProgress& progress_;
  const Detail detail_;
  std::mutex mutex_;  // protects stop_
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace zc::cli
