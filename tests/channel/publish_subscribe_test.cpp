// The core data path: messages written in place by a publisher arrive whole and in order in
// other processes, payloads are read-only there, and a chunk returns to the pool only when every
// subscriber it went to has released it.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <algorithm>
#include <vector>

#include "channel/channel_test_support.hpp"
#include "support/child_process.hpp"
#include "support/sanitizer.hpp"

namespace {

using namespace zc::test;

TEST(PublishSubscribe, MessagesCrossProcessesWholeAndInOrder) {
  const std::string name = unique_channel("cross");
  auto publisher =
      zc::Publisher::create(name, {.chunk_size = 1024, .chunk_count = 32, .queue_depth = 8});
  ASSERT_TRUE(publisher) << publisher.error().message();
  const std::size_t messages = scaled(20000);
  std::vector<pid_t> children;
  for (int i = 0; i < 3; ++i) {
    children.push_back(spawn([&] {
      auto subscriber = zc::Subscriber::connect(name, 10s);
      if (!subscriber) return 10;
      for (std::uint64_t expected = 0;; ++expected) {
        auto sample = subscriber->receive(10s);
        if (!sample) {
          return sample.error().code() == zc::Errc::closed && expected == messages ? 0 : 11;
        }
        if (sample->sequence() != expected) return 12;  // block mode: nothing may be missing
        if (!check_message(sample->bytes(), expected)) return 13;
      }
    }));
  }
  ASSERT_TRUE(publisher->wait_for_subscribers(3, 10s));
  for (std::size_t i = 0; i < messages; ++i) {
    auto sequence = publish_message(*publisher);
    ASSERT_TRUE(sequence) << sequence.error().message();
    ASSERT_EQ(*sequence, i);
  }
  publisher->close();
  for (pid_t child : children) EXPECT_EQ(reap(child), 0);
  // Their departures give back whatever they still held.
  for (int i = 0; i < 500 && publisher->stats().subscribers > 0; ++i) {
    publisher->service();
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(publisher->stats().subscribers, 0U);
  EXPECT_EQ(publisher->pool().stats().free, 32U);
  EXPECT_EQ(publisher->stats().rejected_returns, 0U);
}

TEST(PublishSubscribe, PayloadsAreReadOnlyForSubscribers) {
  const std::string name = unique_channel("readonly");
  auto publisher = zc::Publisher::create(name, {.chunk_size = 4096, .chunk_count = 4});
  ASSERT_TRUE(publisher);
  auto subscriber = connect_in_process(*publisher, name);
  ASSERT_TRUE(subscriber) << subscriber.error().message();
  ASSERT_TRUE(publish_message(*publisher));
  auto sample = subscriber->receive(1s);
  ASSERT_TRUE(sample);
  // A forked child inherits the read-only mapping; writing to it must fault.
  auto* address = const_cast<std::byte*>(sample->bytes().data());
  const int status = zc::test::run_in_child([&] {
    ::signal(SIGSEGV, SIG_DFL);  // the kernel's verdict, not a sanitizer's report
    *static_cast<volatile std::byte*>(address) = std::byte{1};
    return 0;
  });
  EXPECT_EQ(status, 128 + SIGSEGV);
}

TEST(PublishSubscribe, AChunkReturnsToThePoolOnlyAfterEverySubscriberReleasedIt) {
  const std::string name = unique_channel("refcount");
  auto publisher = zc::Publisher::create(name, {.chunk_size = 256, .chunk_count = 4});
  ASSERT_TRUE(publisher);
  auto first = connect_in_process(*publisher, name);
  auto second = connect_in_process(*publisher, name);
  ASSERT_TRUE(first && second);
  ASSERT_TRUE(publish_message(*publisher));
  EXPECT_EQ(publisher->pool().stats().free, 3U);

  auto a = first->receive(1s);
  auto b = second->receive(1s);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->chunk(), b->chunk());
  EXPECT_TRUE(
      std::equal(a->bytes().begin(), a->bytes().end(), b->bytes().begin(), b->bytes().end()))
      << "two mappings of the same chunk";
  a->reset();
  publisher->service();
  EXPECT_EQ(publisher->pool().stats().free, 3U) << "the second subscriber still holds it";
  b->reset();
  publisher->service();
  EXPECT_EQ(publisher->pool().stats().free, 4U);
  EXPECT_EQ(publisher->stats().rejected_returns, 0U);
}

// A publish that leaves the pool dry takes back what subscribers have returned by then, so the
// next loan finds a chunk without draining on its way to the next message.
TEST(PublishSubscribe, APublishThatEmptiesThePoolTakesBackWhatWasReturned) {
  const std::string name = unique_channel("dry");
  auto publisher =
      zc::Publisher::create(name, {.chunk_size = 256, .chunk_count = 2, .queue_depth = 2});
  ASSERT_TRUE(publisher);
  auto subscriber = connect_in_process(*publisher, name);
  ASSERT_TRUE(subscriber);
  ASSERT_TRUE(publish_message(*publisher));
  auto sample = subscriber->receive(1s);
  ASSERT_TRUE(sample);
  sample->reset();  // into the release ring; nothing has drained it yet
  EXPECT_EQ(publisher->pool().stats().free, 1U);
  ASSERT_TRUE(publish_message(*publisher));  // takes the last free chunk
  EXPECT_EQ(publisher->pool().stats().free, 1U) << "the returned chunk is back in the pool";
  sample = subscriber->receive(1s);
  ASSERT_TRUE(sample);
  EXPECT_TRUE(check_message(sample->bytes(), sample->sequence()));
  sample->reset();
  publisher->service();
  EXPECT_EQ(publisher->pool().stats().free, 2U);
  EXPECT_EQ(publisher->stats().rejected_returns, 0U);
}

TEST(PublishSubscribe, ASubscriberWithNothingQueuedTimesOutThenSeesTheEnd) {
  const std::string name = unique_channel("end");
  auto publisher = zc::Publisher::create(name, {.chunk_size = 64, .chunk_count = 4});
  ASSERT_TRUE(publisher);
  auto subscriber = connect_in_process(*publisher, name);
  ASSERT_TRUE(subscriber);
  auto nothing = subscriber->try_receive();
  ASSERT_TRUE(nothing);
  EXPECT_FALSE(nothing->has_value());
  auto late = subscriber->receive(20ms);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code(), zc::Errc::timeout);
  ASSERT_TRUE(publish_message(*publisher));
  publisher->close();
  auto last = subscriber->receive(1s);
  ASSERT_TRUE(last) << "queued messages drain before the end";
  auto end = subscriber->receive(1s);
  ASSERT_FALSE(end);
  EXPECT_EQ(end.error().code(), zc::Errc::closed);
  EXPECT_NE(end.error().message().find("publisher closed"), std::string::npos);
}

TEST(PublishSubscribe, ASleepingSubscriberIsWokenByPublish) {
  const std::string name = unique_channel("wake");
  auto publisher = zc::Publisher::create(name, {.chunk_size = 64, .chunk_count = 8});
  ASSERT_TRUE(publisher);
  auto subscriber = connect_in_process(*publisher, name);
  ASSERT_TRUE(subscriber);
  const std::size_t rounds = scaled(200);
  std::atomic<std::size_t> received{0};
  std::thread reader([&] {
    for (std::size_t i = 0; i < rounds; ++i) {
      auto sample = subscriber->receive(5s);
      if (!sample || !check_message(sample->bytes(), sample->sequence())) return;
      received.fetch_add(1);
    }
  });
  for (std::size_t i = 0; i < rounds; ++i) {
    // Give the reader time to go to sleep so each publish has to wake it.
    if (i % 16 == 0) std::this_thread::sleep_for(2ms);
    ASSERT_TRUE(publish_message(*publisher));
  }
  reader.join();
  EXPECT_EQ(received.load(), rounds);
}

}  // namespace
