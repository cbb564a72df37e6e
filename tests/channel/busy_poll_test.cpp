// A subscriber told to busy-poll for a very long time must still honour its timeout, the end of
// the stream and the publisher's death, instead of spinning through them.
//
// What tells a correct spin from a broken one is the CPU time it burns after it should have
// stopped: a correct one looks at the clock, `closed` and the pidfd every 1024 rounds, so it
// stops within microseconds of CPU; one that ignores them runs on through all of its 2^32 rounds,
// seconds of CPU on any machine. Load only delays a spinning thread, it does not make it spin
// more, so a bound of one CPU second is never reached by a correct spin.
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <limits>
#include <thread>

#include "channel_test_support.hpp"

namespace {

using namespace std::chrono_literals;
using namespace zc::test;

constexpr auto kCpuBound = 1s;

zc::SubscriberOptions spin_forever() {
  zc::SubscriberOptions options;
  options.spin_count = std::numeric_limits<std::uint32_t>::max();
  return options;
}

std::chrono::nanoseconds cpu_time(clockid_t clock) {
  timespec now{};
  if (::clock_gettime(clock, &now) != 0) return std::chrono::nanoseconds::max();
  return std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec);
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

  const auto before = cpu_time(CLOCK_THREAD_CPUTIME_ID);
  auto sample = (*subscriber)->receive(50ms);
  const auto spent = cpu_time(CLOCK_THREAD_CPUTIME_ID) - before;
  ASSERT_FALSE(sample);
  EXPECT_EQ(sample.error().code(), zc::Errc::timeout);
  // At most the 50 ms the spin was allowed, whatever the load.
  EXPECT_LT(spent, kCpuBound) << "the spin ignored the timeout";
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

    // The subscriber spins in its own thread; we end the stream under it.
    std::optional<zc::Result<zc::Sample>> sample;
    std::atomic<std::int64_t> cpu_at_end{0};
    std::thread spinning([&] {
      sample.emplace(subscriber->receive(600s));
      cpu_at_end = cpu_time(CLOCK_THREAD_CPUTIME_ID).count();
    });
    clockid_t spinner_clock{};
    ASSERT_EQ(::pthread_getcpuclockid(spinning.native_handle(), &spinner_clock), 0);
    // Let it get into the spin (10 ms of CPU) before anything happens.
    for (int i = 0; i < 3000 && cpu_time(spinner_clock) < 10ms; ++i)
      std::this_thread::sleep_for(1ms);

    ASSERT_EQ(::write(go[1], "x", 1), 1);
    EXPECT_EQ(reap(publisher_pid), crash ? 128 + SIGKILL : 0);
    // Reaped: the close is stored and the pidfd readable. From here the spin must stop.
    const auto cpu_at_event = cpu_time(spinner_clock);
    spinning.join();
    ASSERT_TRUE(sample && !*sample);
    EXPECT_EQ((*sample).error().code(), zc::Errc::closed) << (*sample).error().message();
    const auto after = std::chrono::nanoseconds(cpu_at_end.load()) - cpu_at_event;
    EXPECT_LT(after, kCpuBound) << (crash ? "death" : "close") << " was not noticed while spinning";
    ::close(go[0]);
    ::close(go[1]);
  }
}

}  // namespace
