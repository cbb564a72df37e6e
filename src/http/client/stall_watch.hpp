// src/http/client/stall_watch.hpp: the rule that ends a transfer which no longer moves.
//
// A per-read timeout restarts with every byte, so a server that trickles one byte a second would
// keep a download alive for ever. Instead the body is judged over windows of `--timeout`: a
// window in which fewer than kMinWindowBytes arrive is a stall, and the transfer fails at the end
// of that window. Reads block at most kReadSlice (the socket's SO_RCVTIMEO), so the stop flag a
// signal sets is seen within that slice even when nothing arrives.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "zcopy/core/error.hpp"

namespace zc::http::detail {

// Fewer bytes than this in one window of --timeout is no progress.
inline constexpr std::uint64_t kMinWindowBytes = 1024;
// The longest a single read blocks before the stall rule and the stop flag are checked.
inline constexpr std::chrono::milliseconds kReadSlice{200};

class StallWatch {
 public:
  StallWatch(std::chrono::milliseconds window, const std::atomic<bool>* stop, std::string what)
      : window_(window), stop_(stop), what_(std::move(what)) {}

  // After every read (`bytes` may be 0 when a slice passed without data): an error when the stop
  // flag is set, or when a window ended with too little progress.
  Result<void> update(std::uint64_t bytes) {
    if (stop_ != nullptr && stop_->load(std::memory_order_relaxed)) {
      return fail(Errc::closed, what_, "interrupted");
    }
    window_bytes_ += bytes;
    const auto now = std::chrono::steady_clock::now();
    if (now - window_start_ < window_) return {};
    if (window_bytes_ < kMinWindowBytes) {
      return fail(Errc::timeout, what_,
                  "stalled: " + std::to_string(window_bytes_) + " bytes in the last " +
                      std::to_string(window_.count()) + " ms (at least " +
                      std::to_string(kMinWindowBytes) + " are needed per --timeout)");
    }
    window_start_ = now;
    window_bytes_ = 0;
    return {};
  }

 private:
  std::chrono::milliseconds window_;
  const std::atomic<bool>* stop_;
  std::string what_;
  std::chrono::steady_clock::time_point window_start_ = std::chrono::steady_clock::now();
  std::uint64_t window_bytes_ = 0;
};

}  // namespace zc::http::detail
