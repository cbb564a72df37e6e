// A publisher blocked on a slow subscriber (no chunk free, or no room in its queue) must not be
// woken at every message the subscriber takes or returns: with more processes than CPUs each
// wake-up trades the two places, and a fan-out to eight subscribers on two CPUs fell to 0.07x the
// rate of one. It asks each subscriber for half of what it holds, or half a queue, first.
//
// The subscriber here acts only while the publisher's thread sleeps, so every take and every
// return meets a waiting publisher: woken at each one, the publisher counts one or two wake-ups
// per message; asked for half, about one per four.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "channel_test_support.hpp"

namespace {

using namespace std::chrono_literals;
using namespace zc::test;

constexpr std::uint64_t kMessages = 64;

// The state letter of a thread of this process (R, S, D, ...), '?' once it is gone.
char thread_state(pid_t tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  const auto paren = text.rfind(')');
  return paren == std::string::npos || paren + 2 >= text.size() ? '?' : text[paren + 2];
}

// Publishes kMessages on its own thread while the caller's subscriber, acting only when that
// thread sleeps, takes each message and returns it; the publisher's wake-ups when done.
std::uint64_t wakeups_with_a_slow_subscriber(const zc::ChannelOptions& options) {
  const std::string name = unique_channel("wakeups");
  auto publisher = zc::Publisher::create(name, options);
  EXPECT_TRUE(publisher) << publisher.error().message();
  if (!publisher) return UINT64_MAX;
  std::atomic<pid_t> publisher_tid{0};
  std::atomic<bool> done{false};
  std::atomic<bool> failed{false};
  std::thread publishing([&] {
    publisher_tid.store(static_cast<pid_t>(::syscall(SYS_gettid)));
    if (!publisher->wait_for_subscribers(1, 10s)) failed = true;
    for (std::uint64_t i = 0; i < kMessages && !failed; ++i) {
      if (!publish_message(*publisher)) failed = true;
    }
    done = true;
  });
  auto subscriber = zc::Subscriber::connect(name, 10s);
  EXPECT_TRUE(subscriber) << subscriber.error().message();
  // Until the publisher sleeps (it waits for us) or is done.
  auto until_publisher_sleeps = [&] {
    while (!done && !failed && thread_state(publisher_tid.load()) != 'S') std::this_thread::yield();
  };
  for (std::uint64_t i = 0; subscriber && i < kMessages && !failed; ++i) {
    until_publisher_sleeps();
    auto sample = subscriber->receive(10s);
    EXPECT_TRUE(sample) << sample.error().message();
    if (!sample) break;
    EXPECT_TRUE(check_message(sample->bytes(), i));
    until_publisher_sleeps();
    sample->reset();
  }
  publishing.join();
  EXPECT_FALSE(failed);
  return publisher->stats().wakeups;
}

TEST(PublisherWakeups, APublisherOutOfChunksIsWokenForHalfTheChunksNotForEachOne) {
  // Eight chunks and a deep queue: the publisher waits for chunks.
  const std::uint64_t wakeups = wakeups_with_a_slow_subscriber(
      {.chunk_size = 256, .chunk_count = 8, .queue_depth = 64, .timeout = 10s});
  EXPECT_LT(wakeups, kMessages / 2);
}

TEST(PublisherWakeups, APublisherWithAFullQueueIsWokenForHalfTheQueueNotForEachMessage) {
  // Plenty of chunks and a queue of eight: the publisher waits for room.
  const std::uint64_t wakeups = wakeups_with_a_slow_subscriber(
      {.chunk_size = 256, .chunk_count = 64, .queue_depth = 8, .timeout = 10s});
  EXPECT_LT(wakeups, kMessages / 2);
}

// Asked for half of its chunks, a subscriber that keeps the rest and stops receiving still lets
// a publisher that needed only one go on (it looks again within milliseconds); otherwise the
// publisher would wait out its whole timeout.
TEST(PublisherWakeups, AReturnShortOfWhatWasAskedStillFreesTheChunkForTheWaitingPublisher) {
  const std::string name = unique_channel("short-return");
  auto publisher = zc::Publisher::create(
      name, {.chunk_size = 256, .chunk_count = 8, .queue_depth = 64, .timeout = 60s});
  ASSERT_TRUE(publisher);
  std::atomic<pid_t> publisher_tid{0};
  std::atomic<int> published{0};
  std::optional<zc::Result<std::uint64_t>> last;
  std::thread publishing([&] {
    publisher_tid.store(static_cast<pid_t>(::syscall(SYS_gettid)));
    if (!publisher->wait_for_subscribers(1, 10s)) return;
    for (int i = 0; i < 8; ++i) {
      if (!publish_message(*publisher)) return;
      ++published;
    }
    last = publish_message(*publisher);  // waits: every chunk is held by the subscriber
  });
  auto subscriber = zc::Subscriber::connect(name, 10s);
  ASSERT_TRUE(subscriber) << subscriber.error().message();
  std::vector<zc::Sample> held;
  for (int i = 0; i < 8; ++i) {
    auto sample = subscriber->receive(10s);
    ASSERT_TRUE(sample) << sample.error().message();
    held.push_back(std::move(*sample));
  }
  while (thread_state(publisher_tid.load()) != 'S') std::this_thread::yield();
  held.front().reset();  // one chunk back, then nothing more from us
  publishing.join();
  ASSERT_TRUE(last.has_value());
  ASSERT_TRUE(*last) << last->error().message();
  EXPECT_EQ(**last, 8U);
}

}  // namespace
