// FrameTicker: a timerfd re-armed at absolute tick times.
#include "zcopy/frame/frame_ticker.hpp"

#include <poll.h>

#include <string>

#include "zcopy/core/syscall.hpp"
#include "zcopy/core/wake.hpp"

namespace zc {

FrameTicker::FrameTicker(Fd timer, std::chrono::nanoseconds period) noexcept
    : timer_(std::move(timer)), period_(period), start_(std::chrono::steady_clock::now()) {}

Result<FrameTicker> FrameTicker::start(double hz) {
  if (!(hz > 0.0 && hz <= 10000.0)) {
    return fail(Errc::invalid_argument, "frame ticker",
                "rate " + std::to_string(hz) + " Hz outside (0, 10000]");
  }
  auto timer = make_timerfd();
  if (!timer) return std::unexpected(std::move(timer.error()));
  const auto period = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / hz));
  FrameTicker ticker(std::move(*timer), period);
  ticker.arm();
  return ticker;
}

void FrameTicker::arm() noexcept {
  set_timerfd(timer_.get(), start_ + period_ * static_cast<std::int64_t>(tick_ + 1));
}

Result<std::uint64_t> FrameTicker::wait() {
  pollfd p{timer_.get(), POLLIN, 0};
  auto ready = sys_call({"poll(timerfd)", timer_.get()}, [&] { return ::poll(&p, 1, -1); });
  if (!ready) return std::unexpected(std::move(ready.error()));
  drain_eventfd(timer_.get());  // a timerfd reads like an eventfd: 8 bytes, then reset
  // Ticks whose time has already passed were missed: skip to the next one in the future.
  const auto elapsed = std::chrono::steady_clock::now() - start_;
  const auto due = static_cast<std::uint64_t>(elapsed / period_);
  const std::uint64_t missed = due > tick_ + 1 ? due - tick_ - 1 : 0;
  tick_ = due > tick_ ? due : tick_ + 1;
  arm();
  return missed;
}

}  // namespace zc
