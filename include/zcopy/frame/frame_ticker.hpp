// zcopy/frame/frame_ticker.hpp: the refresh tick a compositor flips at, from a timerfd.
//
//   auto ticker = zc::FrameTicker::start(60.0);
//   for (;;) {
//     auto missed = ticker->wait();     // blocks until the next tick; ticks missed meanwhile
//     chain.flip();
//   }
//
// Ticks sit at start + k / hz on CLOCK_MONOTONIC, each armed as an absolute time, so the rate does
// not drift with the time spent between waits. fd() is readable at a tick, for an epoll loop.
#pragma once

#include <chrono>
#include <cstdint>

#include "zcopy/core/error.hpp"
#include "zcopy/core/fd.hpp"

namespace zc {

class FrameTicker {
 public:
  // Errc::invalid_argument unless 0 < hz <= 10000.
  static Result<FrameTicker> start(double hz);

  // Sleeps until the next tick; returns how many ticks passed since the previous wait beyond the
  // one expected (0 when on time).
  Result<std::uint64_t> wait();
  int fd() const noexcept { return timer_.get(); }
  std::chrono::nanoseconds period() const noexcept { return period_; }

 private:
  FrameTicker(Fd timer, std::chrono::nanoseconds period) noexcept;
  void arm() noexcept;

  Fd timer_;
  std::chrono::nanoseconds period_;
  std::chrono::steady_clock::time_point start_;
  std::uint64_t tick_ = 0;
};

}  // namespace zc
