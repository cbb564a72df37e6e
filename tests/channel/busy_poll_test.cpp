// A subscriber told to busy-poll for a very long time must still honour its timeout, the end of
// the stream and the publisher's death, instead of spinning through them.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <limits>

#include "channel_test_support.hpp"

namespace {

using namespace std::chrono_literals;
using namespace zc::test;

zc::SubscriberOptions spin_forever() {
  zc::SubscriberOptions options;
  options.spin_count = std::numeric_limits<std::uint32_t>::max();
  return options;
}

TEST(BusyPoll, TimeoutEndsTheSpin) {
  const std::string name = unique_channel("spin-timeout");
  auto publisher = zc::Publisher::create(name, {.chunk_size = 64, .chunk_count = 4});
  ASSERT_TRUE(publisher);
  std::optional<zc::Result<zc::Subscriber>> subscriber;
  std::thread connecting(
      [&] { subscriber.emplace(zc::Subscriber::connect(name, 5s, spin_forever())); });
  ASSERT_TRUE(publisher->wait_for_subscribers(1, 5s));
  connecting.join();
  ASSERT_TRUE(*subscriber) << subscriber->error().message();

  const auto start = std::chrono::steady_clock::now();
  auto sample = (*subscriber)->receive(50ms);
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(sample);
  EXPECT_EQ(sample.error().code(), zc::Errc::timeout);
  EXPECT_LT(waited, 2s) << "the spin ignored the timeout";
}

TEST(BusyPoll, EndOfStreamAndPublisherDeathEndTheSpin) {
  for (const bool crash : {false, true}) {
    const std::string name = unique_channel(crash ? "spin-death" : "spin-close");
    int go[2];
    ASSERT_EQ(::pipe(go), 0);
    const pid_t publisher_pid = spawn([&] {
      auto publisher = zc::Publisher::create(name, {.chunk_size = 64, .chunk_count = 4});
      if (!publisher || !publisher->wait_for_subscribers(1, 10s)) return 1;
      char byte = 0;
      if (::read(go[0], &byte, 1) != 1) return 2;
      if (crash) ::kill(::getpid(), SIGKILL);
      publisher->close();
      return 0;
    });
    auto subscriber = zc::Subscriber::connect(name, 10s, spin_forever());
    ASSERT_TRUE(subscriber) << subscriber.error().message();
    ASSERT_EQ(::write(go[1], "x", 1), 1);
    const auto start = std::chrono::steady_clock::now();
    auto sample = subscriber->receive(60s);
    const auto waited = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(sample);
    EXPECT_EQ(sample.error().code(), zc::Errc::closed) << sample.error().message();
    EXPECT_LT(waited, 2s) << (crash ? "death" : "close") << " was not noticed while spinning";
    EXPECT_EQ(reap(publisher_pid), crash ? 128 + SIGKILL : 0);
    ::close(go[0]);
    ::close(go[1]);
  }
}

}  // namespace
