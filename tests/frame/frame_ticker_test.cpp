// FrameTicker: a refresh tick from a timerfd.
#include "zcopy/frame/frame_ticker.hpp"

#include <gtest/gtest.h>
#include <poll.h>

namespace {

TEST(FrameTicker, waits_return_one_tick_after_another) {
  auto ticker = zc::FrameTicker::start(1000.0);
  ASSERT_TRUE(ticker.has_value()) << ticker.error().message();
  EXPECT_EQ(ticker->period(), std::chrono::microseconds(1000));
  for (int i = 0; i < 5; ++i) {
    auto missed = ticker->wait();
    ASSERT_TRUE(missed.has_value()) << missed.error().message();
  }
  // After a wait the timer is armed again: the next tick makes its fd readable.
  pollfd p{ticker->fd(), POLLIN, 0};
  EXPECT_GE(::poll(&p, 1, 10'000), 1);
}

TEST(FrameTicker, a_rate_outside_the_range_is_refused) {
  for (double hz : {0.0, -5.0, 20000.0}) {
    auto ticker = zc::FrameTicker::start(hz);
    ASSERT_FALSE(ticker.has_value()) << hz;
    EXPECT_EQ(ticker.error().code(), zc::Errc::invalid_argument);
  }
}

}  // namespace
