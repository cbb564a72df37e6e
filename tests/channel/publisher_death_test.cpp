// Publishers killed at random points of their stream: a subscriber must read every message that
// was published before the kill, intact and in order, and then learn of the death, never see a
// half-written message, and never hang.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <random>

#include "channel_test_support.hpp"
#include "support/sanitizer.hpp"

namespace {

using namespace std::chrono_literals;
using namespace zc::test;

TEST(PublisherDeath, RandomlyKilledPublishersNeverShowATornOrMissingMessage) {
  const std::size_t kills = zc::test::kSanitized ? 20 : 200;
  std::mt19937 random(777);
  std::chrono::nanoseconds slowest{0};
  std::uint64_t messages_checked = 0;
  for (std::size_t k = 0; k < kills; ++k) {
    const std::string name = unique_channel("pubkill") + "-" + std::to_string(k);
    const pid_t publisher_pid = spawn([&] {
      auto publisher = zc::Publisher::create(
          name, {.chunk_size = 1024, .chunk_count = 16, .queue_depth = 8, .timeout = 5000ms});
      if (!publisher || !publisher->wait_for_subscribers(1, 10s)) return 1;
      for (;;) {
        if (!publish_message(*publisher)) return 2;
      }
    });
    auto subscriber = zc::Subscriber::connect(name, 10s);
    ASSERT_TRUE(subscriber) << subscriber.error().message();

    // Read a random stretch, kill the publisher wherever it happens to be, then drain.
    const std::uint64_t before_kill = random() % 200;
    std::uint64_t next = 0;
    for (; next < before_kill; ++next) {
      auto sample = subscriber->receive(5s);
      ASSERT_TRUE(sample) << sample.error().message();
      ASSERT_EQ(sample->sequence(), next);
      ASSERT_TRUE(check_message(sample->bytes(), next)) << "torn message " << next;
    }
    ASSERT_EQ(::kill(publisher_pid, SIGKILL), 0);
    const auto killed = std::chrono::steady_clock::now();
    for (;; ++next) {
      // 30 s: only a death that goes unnoticed takes that long (bench measures how fast).
      auto sample = subscriber->receive(30s);
      if (!sample) {
        ASSERT_EQ(sample.error().code(), zc::Errc::closed) << sample.error().message();
        break;
      }
      ASSERT_EQ(sample->sequence(), next) << "a message went missing";
      ASSERT_TRUE(check_message(sample->bytes(), next)) << "torn message " << next;
    }
    slowest = std::max(slowest, std::chrono::steady_clock::now() - killed);
    messages_checked += next;
    ASSERT_EQ(reap(publisher_pid), 128 + SIGKILL);
  }
  // Draining what was queued before the kill is included: at most queue_depth small messages.
  std::printf("[ figures ] %zu publisher kills, %llu messages checked, slowest detection %.2f ms\n",
              kills, static_cast<unsigned long long>(messages_checked),
              static_cast<double>(slowest.count()) / 1e6);
}

}  // namespace
