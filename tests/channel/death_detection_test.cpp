// Death without a goodbye: a subscriber killed with SIGKILL is noticed through its pidfd (or its
// socket) and every chunk it held is reclaimed, while the live subscribers keep seeing whole,
// ordered messages. A publisher that dies is noticed the same way. How fast is measured by
// `zcopy channel bench` (death detection); here the bounds are 30 s, which only a death that
// goes unnoticed reaches.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "channel/channel_test_support.hpp"
#include "support/sanitizer.hpp"

namespace {

using namespace zc::test;

bool serve_until_subscribers(zc::Publisher& publisher, std::size_t count,
                             std::chrono::milliseconds limit) {
  return serve_until(
      publisher, [&] { return publisher.stats().subscribers == count; }, limit);
}

TEST(DeathDetection, KilledSubscribersAreReclaimedAndLiveOnesSeeNoTornMessage) {
  const std::string name = unique_channel("kill");
  constexpr std::size_t kChunks = 32;
  auto publisher = zc::Publisher::create(
      name, {.chunk_size = 1024, .chunk_count = kChunks, .queue_depth = 8, .timeout = 5000ms});
  ASSERT_TRUE(publisher);
  std::vector<pid_t> live;
  for (int i = 0; i < 2; ++i) live.push_back(spawn([&] { return subscribe_and_check(name); }));
  ASSERT_TRUE(publisher->wait_for_subscribers(2, 10s));

  std::mt19937 random(12345);
  const std::size_t kills = zc::test::kSanitized ? 100 : 1000;
  std::chrono::nanoseconds slowest{0};
  for (std::size_t k = 0; k < kills; ++k) {
    const pid_t victim = spawn([&] { return subscribe_and_check(name); });
    ASSERT_TRUE(publisher->wait_for_subscribers(3, 10s));
    // Let it receive (and hold) a random number of messages, then kill it mid-stream.
    const std::size_t burst = random() % 40;
    for (std::size_t i = 0; i < burst; ++i) ASSERT_TRUE(publish_message(*publisher));
    std::this_thread::sleep_for(std::chrono::microseconds(random() % 500));
    ASSERT_EQ(::kill(victim, SIGKILL), 0);
    const auto killed = std::chrono::steady_clock::now();
    ASSERT_EQ(reap(victim), 128 + SIGKILL);
    ASSERT_TRUE(serve_until_subscribers(*publisher, 2, 30s)) << "kill " << k;
    slowest = std::max(slowest, std::chrono::steady_clock::now() - killed);
  }
  std::printf("[ figures ] %zu kills, slowest detection %.2f ms\n", kills,
              static_cast<double>(slowest.count()) / 1e6);

  publisher->close();
  for (pid_t child : live)
    EXPECT_EQ(reap(child), 0) << "a live subscriber saw a torn or reordered message";
  ASSERT_TRUE(serve_until_subscribers(*publisher, 0, 5000ms));
  const zc::PublisherStats stats = publisher->stats();
  // A killed process closes its socket and exits at nearly the same moment; whichever the
  // publisher sees first names the departure.
  EXPECT_EQ(stats.left + stats.died, kills + 2);
  std::printf("[ figures ] departures seen as death %llu, as socket close %llu\n",
              static_cast<unsigned long long>(stats.died),
              static_cast<unsigned long long>(stats.left));
  EXPECT_EQ(publisher->pool().stats().free, kChunks) << "no chunk leaked";
  EXPECT_EQ(stats.rejected_returns, 0U);
}

TEST(DeathDetection, SubscribersLearnThatThePublisherDied) {
  const std::string name = unique_channel("orphan");
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t publisher_pid = spawn([&] {
    auto publisher = zc::Publisher::create(name, {.chunk_size = 64, .chunk_count = 8});
    if (!publisher || !publisher->wait_for_subscribers(1, 10s)) return 1;
    for (int i = 0; i < 3; ++i) {
      if (!publish_message(*publisher)) return 2;
    }
    char go = 0;
    if (::read(pipe_fds[0], &go, 1) != 1) return 3;
    ::kill(::getpid(), SIGKILL);  // no close(): a crash
    return 4;
  });
  auto subscriber = zc::Subscriber::connect(name, 10s);
  ASSERT_TRUE(subscriber) << subscriber.error().message();
  EXPECT_EQ(subscriber->publisher_pid(), publisher_pid);
  for (std::uint64_t expected = 0; expected < 3; ++expected) {
    auto sample = subscriber->receive(5s);
    ASSERT_TRUE(sample);
    EXPECT_TRUE(check_message(sample->bytes(), expected));
  }
  ASSERT_EQ(::write(pipe_fds[1], "x", 1), 1);
  auto end = subscriber->receive(30s);
  ASSERT_FALSE(end);
  EXPECT_EQ(end.error().code(), zc::Errc::closed);
  EXPECT_NE(end.error().message().find("publisher pid " + std::to_string(publisher_pid) + " died"),
            std::string::npos)
      << end.error().message();
  EXPECT_EQ(reap(publisher_pid), 128 + SIGKILL);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

TEST(DeathDetection, ThePidfdCatchesADeathThatLeavesTheSocketOpen) {
  // The subscriber forks after connecting, so a grandchild keeps its socket open: only the pidfd
  // of the process that said hello can tell the publisher that it died.
  const std::string name = unique_channel("pidfd");
  auto publisher = zc::Publisher::create(name, {.chunk_size = 64, .chunk_count = 8});
  ASSERT_TRUE(publisher);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t subscriber_pid = spawn([&] {
    auto subscriber = zc::Subscriber::connect(name, 10s);
    if (!subscriber) return 1;
    auto held = subscriber->receive(10s);  // dies holding it
    if (!held) return 2;
    const pid_t grandchild = ::fork();
    if (grandchild == 0) {
      ::pause();
      ::_exit(0);
    }
    if (::write(pipe_fds[1], &grandchild, sizeof grandchild) != sizeof grandchild) return 3;
    ::pause();
    return 4;
  });
  ASSERT_TRUE(publisher->wait_for_subscribers(1, 10s));
  ASSERT_TRUE(publish_message(*publisher));
  pid_t grandchild = 0;
  ASSERT_EQ(::read(pipe_fds[0], &grandchild, sizeof grandchild),
            static_cast<ssize_t>(sizeof grandchild));
  EXPECT_EQ(publisher->pool().stats().free, 7U);
  ASSERT_EQ(::kill(subscriber_pid, SIGKILL), 0);
  ASSERT_TRUE(serve_until_subscribers(*publisher, 0, 30s));
  EXPECT_EQ(publisher->stats().died, 1U);
  EXPECT_EQ(publisher->pool().stats().free, 8U) << "the chunk it held was reclaimed";
  EXPECT_EQ(reap(subscriber_pid), 128 + SIGKILL);
  ::kill(grandchild, SIGKILL);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

}  // namespace
