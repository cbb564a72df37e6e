// Subscribers join and leave while the channel runs: at least eight at once, each sees whole,
// ordered messages, and the chunks of those that leave come back.
#include <gtest/gtest.h>

#include <vector>

#include "channel/channel_test_support.hpp"
#include "support/sanitizer.hpp"

namespace {

using namespace zc::test;

TEST(SubscriberChurn, EightSubscribersJoinAndLeaveWhileMessagesFlow) {
  const std::string name = unique_channel("churn");
  constexpr std::size_t kChunks = 64;
  auto publisher = zc::Publisher::create(
      name, {.chunk_size = 512, .chunk_count = kChunks, .queue_depth = 4, .max_subscribers = 16});
  ASSERT_TRUE(publisher);
  const std::size_t per_child = scaled(2000);
  std::vector<pid_t> children;
  // The first wave: eight at once, leaving after different amounts.
  for (std::size_t i = 0; i < 8; ++i) {
    children.push_back(
        spawn([&, i] { return subscribe_and_check(name, per_child / 8 * (i + 1)); }));
  }
  ASSERT_TRUE(publisher->wait_for_subscribers(8, 10s));
  EXPECT_EQ(publisher->stats().subscribers, 8U);
  std::size_t second_wave = 0;
  std::vector<int> statuses;
  for (std::size_t sent = 0; statuses.size() < 16; ++sent) {
    ASSERT_TRUE(publish_message(*publisher)) << "at " << sent;
    // A second wave joins while the first leaves.
    if (sent % (per_child / 8) == 0 && second_wave < 8) {
      ++second_wave;
      children.push_back(spawn([&] { return subscribe_and_check(name, per_child / 2); }));
    }
    for (auto it = children.begin(); it != children.end();) {
      if (auto status = reap(*it, true)) {
        statuses.push_back(*status);
        it = children.erase(it);
      } else {
        ++it;
      }
    }
    ASSERT_LT(sent, per_child * 100) << "subscribers did not finish";
  }
  for (int status : statuses) EXPECT_EQ(status, 0);
  for (int i = 0; i < 1000 && publisher->stats().subscribers > 0; ++i) {
    publisher->service();
    std::this_thread::sleep_for(1ms);
  }
  const zc::PublisherStats stats = publisher->stats();
  EXPECT_EQ(stats.subscribers, 0U);
  EXPECT_EQ(stats.left + stats.died, 16U);
  EXPECT_EQ(publisher->pool().stats().free, kChunks)
      << "every departed subscriber's chunks came back";
  EXPECT_EQ(stats.rejected_returns, 0U);
}

TEST(SubscriberChurn, AFullChannelRefusesTheNextSubscriber) {
  const std::string name = unique_channel("full");
  auto publisher =
      zc::Publisher::create(name, {.chunk_size = 64, .chunk_count = 4, .max_subscribers = 1});
  ASSERT_TRUE(publisher);
  auto first = connect_in_process(*publisher, name);
  ASSERT_TRUE(first);
  std::optional<zc::Result<zc::Subscriber>> second;
  std::thread connecting([&] { second.emplace(zc::Subscriber::connect(name, 2s)); });
  for (int i = 0; i < 2000 && publisher->stats().refused == 0; ++i) {
    publisher->service();
    std::this_thread::sleep_for(1ms);
  }
  connecting.join();
  ASSERT_FALSE(*second);
  EXPECT_EQ(second->error().code(), zc::Errc::rejected);
  EXPECT_NE(second->error().message().find("full"), std::string::npos);
}

// The data path walks only the slots up to the highest one in use: a subscriber in the highest
// slot keeps receiving after those below it leave, and the walk grows again for a newcomer.
TEST(SubscriberChurn, TheHighestSlotKeepsReceivingAfterTheLowerOnesLeave) {
  const std::string name = unique_channel("slots");
  constexpr std::size_t kChunks = 8;
  auto publisher = zc::Publisher::create(
      name, {.chunk_size = 64, .chunk_count = kChunks, .queue_depth = 4, .max_subscribers = 4});
  ASSERT_TRUE(publisher);
  auto join = [&]() -> std::optional<zc::Subscriber> {
    auto subscriber = connect_in_process(*publisher, name);
    if (!subscriber) return std::nullopt;
    return std::move(*subscriber);
  };
  std::optional<zc::Subscriber> low = join();
  std::optional<zc::Subscriber> middle = join();
  std::optional<zc::Subscriber> high = join();
  ASSERT_TRUE(low && middle && high);
  ASSERT_EQ(high->id(), 2U);
  low.reset();
  middle.reset();
  ASSERT_TRUE(serve_until(
      *publisher, [&] { return publisher->stats().subscribers == 1; }, 10s));
  auto sent = publish_message(*publisher);
  ASSERT_TRUE(sent);
  auto sample = high->receive(5s);
  ASSERT_TRUE(sample) << sample.error().message();
  EXPECT_EQ(sample->sequence(), *sent);
  EXPECT_TRUE(check_message(sample->bytes(), sample->sequence()));
  EXPECT_EQ(publisher->pool().stats().free, kChunks - 1) << "one holder, the one left";
  sample->reset();

  // The highest leaves too; a newcomer takes the lowest slot, beyond the emptied walk.
  high.reset();
  ASSERT_TRUE(serve_until(
      *publisher, [&] { return publisher->stats().subscribers == 0; }, 10s));
  std::optional<zc::Subscriber> next = join();
  ASSERT_TRUE(next);
  ASSERT_EQ(next->id(), 0U);
  sent = publish_message(*publisher);
  ASSERT_TRUE(sent);
  sample = next->receive(5s);
  ASSERT_TRUE(sample) << sample.error().message();
  EXPECT_EQ(sample->sequence(), *sent);
  sample->reset();
  next.reset();
  ASSERT_TRUE(serve_until(
      *publisher, [&] { return publisher->stats().subscribers == 0; }, 10s));
  EXPECT_EQ(publisher->pool().stats().free, kChunks) << "every chunk came back";
}

}  // namespace
