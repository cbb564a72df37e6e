// Back-pressure: block waits for room and times out without delivering to anyone; drop_oldest
// takes back the oldest unread messages, counts them on both sides, and releases each chunk once.
#include <gtest/gtest.h>

#include "channel/channel_test_support.hpp"
#include "support/sanitizer.hpp"

namespace {

using namespace zc::test;

TEST(Backpressure, BlockTimesOutWhenASubscriberQueueStaysFullAndKeepsTheLoan) {
  const std::string name = unique_channel("block");
  auto publisher = zc::Publisher::create(
      name, {.chunk_size = 64, .chunk_count = 8, .queue_depth = 2, .timeout = 50ms});
  ASSERT_TRUE(publisher);
  auto subscriber = connect_in_process(*publisher, name);
  ASSERT_TRUE(subscriber);
  ASSERT_TRUE(publish_message(*publisher));
  ASSERT_TRUE(publish_message(*publisher));

  auto loan = publisher->loan();
  ASSERT_TRUE(loan);
  const auto started = std::chrono::steady_clock::now();
  auto full = publisher->publish(std::move(*loan), 16);
  const auto waited = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code(), zc::Errc::timeout);
  EXPECT_GE(waited, 50ms);
  EXPECT_TRUE(loan->valid()) << "a publish that timed out leaves the loan with the caller";

  // Once the subscriber takes one, the same loan goes through.
  auto first = subscriber->receive(1s);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->sequence(), 0U);
  auto retried = publisher->publish(std::move(*loan), 16);
  ASSERT_TRUE(retried) << retried.error().message();
  EXPECT_EQ(*retried, 2U);
}

TEST(Backpressure, BlockLoanTimesOutWhenSubscribersHoldEveryChunk) {
  const std::string name = unique_channel("loan");
  auto publisher = zc::Publisher::create(
      name, {.chunk_size = 64, .chunk_count = 2, .queue_depth = 4, .timeout = 30ms});
  ASSERT_TRUE(publisher);
  auto subscriber = connect_in_process(*publisher, name);
  ASSERT_TRUE(subscriber);
  ASSERT_TRUE(publish_message(*publisher));
  ASSERT_TRUE(publish_message(*publisher));
  auto none = publisher->loan();
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), zc::Errc::timeout);
  { auto sample = subscriber->receive(1s); }
  EXPECT_TRUE(publisher->loan()) << "a released chunk can be loaned again";
}

TEST(Backpressure, DropOldestCountsEveryLossOnBothSidesAndLeaksNothing) {
  const std::string name = unique_channel("drop");
  auto publisher = zc::Publisher::create(name, {.chunk_size = 128,
                                                .chunk_count = 16,
                                                .queue_depth = 4,
                                                .backpressure = zc::Backpressure::drop_oldest});
  ASSERT_TRUE(publisher);
  auto slow = connect_in_process(*publisher, name);
  auto fast = connect_in_process(*publisher, name);
  ASSERT_TRUE(slow && fast);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(publish_message(*publisher));
    auto sample = fast->receive(1s);  // the fast one keeps up and loses nothing
    ASSERT_TRUE(sample);
    EXPECT_EQ(sample->sequence(), static_cast<std::uint64_t>(i));
  }
  EXPECT_EQ(publisher->stats().dropped, 6U);
  EXPECT_EQ(slow->dropped(), 6U);
  EXPECT_EQ(fast->dropped(), 0U);
  for (std::uint64_t expected = 6; expected < 10; ++expected) {
    auto sample = slow->receive(1s);
    ASSERT_TRUE(sample);
    EXPECT_EQ(sample->sequence(), expected) << "the newest four survive";
    EXPECT_TRUE(check_message(sample->bytes(), expected));
  }
  publisher->service();
  EXPECT_EQ(publisher->pool().stats().free, 16U) << "each dropped chunk was released exactly once";
  EXPECT_EQ(publisher->stats().rejected_returns, 0U);
}

TEST(Backpressure, DropOldestFreesChunksWhenThePoolRunsDry) {
  const std::string name = unique_channel("dry");
  auto publisher = zc::Publisher::create(name, {.chunk_size = 64,
                                                .chunk_count = 3,
                                                .queue_depth = 8,
                                                .backpressure = zc::Backpressure::drop_oldest,
                                                .timeout = 50ms});
  ASSERT_TRUE(publisher);
  auto subscriber = connect_in_process(*publisher, name);
  ASSERT_TRUE(subscriber);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(publish_message(*publisher));
  EXPECT_EQ(publisher->stats().dropped, 17U);
  EXPECT_EQ(subscriber->dropped(), 17U);
  auto sample = subscriber->receive(1s);
  ASSERT_TRUE(sample);
  EXPECT_EQ(sample->sequence(), 17U);
}

TEST(Backpressure, DropOldestRacesASubscriberForTheSameEntryAndEveryMessageIsCountedOnce) {
  const std::string name = unique_channel("race");
  constexpr std::size_t kChunks = 16;
  auto publisher = zc::Publisher::create(name, {.chunk_size = 256,
                                                .chunk_count = kChunks,
                                                .queue_depth = 4,
                                                .backpressure = zc::Backpressure::drop_oldest});
  ASSERT_TRUE(publisher);
  auto subscriber = connect_in_process(*publisher, name);
  ASSERT_TRUE(subscriber);
  const std::size_t messages = scaled(200000);
  std::size_t received = 0;
  bool ordered_and_whole = true;
  std::string why_reading_ended;
  // The subscriber takes entries while the publisher takes back the oldest ones of the same
  // queue: whoever wins each compare-and-swap owns that entry.
  std::thread reader([&] {
    std::optional<std::uint64_t> last;
    for (;;) {
      auto sample = subscriber->receive(5s);
      if (!sample) {
        if (sample.error().code() != zc::Errc::closed) why_reading_ended = sample.error().message();
        return;
      }
      if ((last && sample->sequence() <= *last) ||
          !check_message(sample->bytes(), sample->sequence())) {
        ordered_and_whole = false;
      }
      last = sample->sequence();
      ++received;
    }
  });
  for (std::size_t i = 0; i < messages; ++i) ASSERT_TRUE(publish_message(*publisher));
  publisher->close();
  reader.join();
  EXPECT_EQ(why_reading_ended, "") << "reading ended before the close";
  EXPECT_TRUE(ordered_and_whole);
  EXPECT_EQ(received + subscriber->dropped(), messages) << "each message received or dropped";
  EXPECT_EQ(publisher->stats().dropped, subscriber->dropped());
  publisher->service();
  EXPECT_EQ(publisher->pool().stats().free, kChunks);
  EXPECT_EQ(publisher->stats().rejected_returns, 0U);
  std::printf("[ figures ] drop_oldest race: %zu received, %llu dropped\n", received,
              static_cast<unsigned long long>(subscriber->dropped()));
}

}  // namespace
