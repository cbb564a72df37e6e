// An import whose local subscriber lags. Under drop-oldest the channel takes back the oldest
// unread messages and every one is counted, by the importer and by the subscriber alike. Under
// block the importer waits (and still returns from run_for on time), the NATS client queues up to
// its pending limits and then drops, and those drops are counted as the slow consumer's.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "nats_test_support.hpp"
#include "zcopy/channel/publisher.hpp"
#include "zcopy/channel/subscriber.hpp"
#include "zcopy/nats/exporter.hpp"
#include "zcopy/nats/importer.hpp"

namespace zc::test {
namespace {

using namespace std::chrono_literals;

// Publishes `count` 100-byte messages on `subject` through a source channel and an exporter.
void export_messages(const std::string& url, const std::string& subject, std::uint64_t count) {
  const std::string source = unique_channel("full-source");
  auto publisher = Publisher::create(source, {.chunk_size = 1024, .chunk_count = 16});
  ASSERT_TRUE(publisher);
  auto exporter_sub = connect_in_process(*publisher, source);
  ASSERT_TRUE(exporter_sub);
  auto nats = nats::NatsConnection::connect({.urls = {url}});
  ASSERT_TRUE(nats);
  auto exporter =
      nats::Exporter::create(std::move(*nats), std::move(*exporter_sub), {.subject = subject});
  ASSERT_TRUE(exporter) << exporter.error().message();
  for (std::uint64_t i = 0; i < count; ++i) {
    auto loan = publisher->loan();
    ASSERT_TRUE(loan);
    fill_message(loan->bytes().first(100), i);
    ASSERT_TRUE(publisher->publish(std::move(*loan), 100));
    ASSERT_TRUE(exporter->run_for(1ms));
  }
  publisher->close();
  for (bool more = true; more;) {
    auto ran = exporter->run_for(1s);
    ASSERT_TRUE(ran) << ran.error().message();
    more = *ran;
  }
}

TEST(NatsImportOnFull, DropOldestCountsEveryMessageALaggingSubscriberLost) {
  ZC_REQUIRE_PROGRAM("nats-server");
  constexpr std::uint64_t kMessages = 200;
  bench::TempDir dir("zcopy-nats");
  auto server = bench::start_nats_server({.dir = dir.path()});
  ASSERT_TRUE(server) << server.error().message();
  const std::string local = unique_channel("full");

  auto importer_nats = nats::NatsConnection::connect({.urls = {server->url()}});
  ASSERT_TRUE(importer_nats) << importer_nats.error().message();
  auto channel = Publisher::create(local, {.chunk_size = 1024,
                                           .chunk_count = 16,
                                           .queue_depth = 4,
                                           .backpressure = Backpressure::drop_oldest});
  ASSERT_TRUE(channel) << channel.error().message();
  auto importer =
      nats::Importer::create(std::move(*importer_nats), std::move(*channel), {.subject = "full.>"});
  ASSERT_TRUE(importer) << importer.error().message();
  auto lagging = connect_in_process(importer->publisher(), local);  // never reads until the end
  ASSERT_TRUE(lagging) << lagging.error().message();

  export_messages(server->url(), "full.x", kMessages);
  if (HasFatalFailure()) return;
  // Within a bound only a broken importer reaches.
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (importer->stats().messages < kMessages && std::chrono::steady_clock::now() < until) {
    ASSERT_TRUE(importer->run_for(20ms));
  }
  const nats::ImportStats stats = importer->stats();
  EXPECT_EQ(stats.messages, kMessages);
  std::uint64_t read = 0;
  for (;;) {
    auto sample = lagging->try_receive();
    if (!sample || !*sample) break;
    ++read;
  }
  EXPECT_EQ(read, 4u);  // the queue's depth: the newest ones
  EXPECT_EQ(stats.channel_dropped, kMessages - read);
  EXPECT_EQ(lagging->dropped(), kMessages - read);
}

TEST(NatsImportOnFull, BlockReturnsOnTimeAndCountsTheClientsSlowConsumerDrops) {
  ZC_REQUIRE_PROGRAM("nats-server");
  constexpr std::uint64_t kMessages = 200;
  bench::TempDir dir("zcopy-nats");
  auto server = bench::start_nats_server({.dir = dir.path()});
  ASSERT_TRUE(server) << server.error().message();
  const std::string local = unique_channel("block");
  auto nats = nats::NatsConnection::connect({.urls = {server->url()}});
  ASSERT_TRUE(nats) << nats.error().message();
  auto channel = Publisher::create(
      local, {.chunk_size = 1024, .chunk_count = 16, .queue_depth = 4, .timeout = 10ms});
  ASSERT_TRUE(channel) << channel.error().message();
  auto importer = nats::Importer::create(std::move(*nats), std::move(*channel),
                                         {.subject = "block.>", .pending_messages = 16});
  ASSERT_TRUE(importer) << importer.error().message();
  auto lagging = connect_in_process(importer->publisher(), local);
  ASSERT_TRUE(lagging) << lagging.error().message();
  export_messages(server->url(), "block.x", kMessages);
  if (HasFatalFailure()) return;
  // The channel stays full: each call must still come back (a blocked importer never did).
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(importer->run_for(20ms));
  const nats::ImportStats full = importer->stats();
  EXPECT_GT(full.stalls, 0u);
  EXPECT_GT(full.slow_consumer_dropped, 0u);
  EXPECT_LT(full.messages, kMessages);
  // Now the subscriber reads: everything the client did not drop arrives, in order.
  std::uint64_t read = 0;
  std::uint64_t last = 0;
  bool ordered = true;
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (read + importer->stats().slow_consumer_dropped < kMessages &&
         std::chrono::steady_clock::now() < until) {
    ASSERT_TRUE(importer->run_for(5ms));
    for (;;) {
      auto sample = lagging->try_receive();
      if (!sample || !*sample) break;
      if (read > 0 && (*sample)->sequence() != last + 1) ordered = false;
      last = (*sample)->sequence();
      ++read;
    }
  }
  EXPECT_TRUE(ordered);
  EXPECT_EQ(read + importer->stats().slow_consumer_dropped, kMessages);
  EXPECT_EQ(importer->stats().channel_dropped, 0u);
}

TEST(NatsImportOnFull, ABlockedImportReturnsWithinItsBudgetNotTheChannelTimeout) {
  ZC_REQUIRE_PROGRAM("nats-server");
  bench::TempDir dir("zcopy-nats");
  auto server = bench::start_nats_server({.dir = dir.path()});
  ASSERT_TRUE(server) << server.error().message();
  const std::string local = unique_channel("budget");
  auto nats = nats::NatsConnection::connect({.urls = {server->url()}});
  ASSERT_TRUE(nats) << nats.error().message();
  // A channel timeout that a loan or publish blind to the budget always waits out, and that no
  // loaded machine reaches otherwise.
  auto channel = Publisher::create(
      local, {.chunk_size = 1024, .chunk_count = 16, .queue_depth = 4, .timeout = 60s});
  ASSERT_TRUE(channel) << channel.error().message();
  auto importer =
      nats::Importer::create(std::move(*nats), std::move(*channel), {.subject = "budget.>"});
  ASSERT_TRUE(importer) << importer.error().message();
  auto lagging = connect_in_process(importer->publisher(), local);  // never reads
  ASSERT_TRUE(lagging) << lagging.error().message();
  export_messages(server->url(), "budget.x", 50);
  if (HasFatalFailure()) return;
  for (int i = 0; i < 5; ++i) {
    const auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(importer->run_for(20ms));
    ASSERT_LT(std::chrono::steady_clock::now() - start, 30s) << "call " << i;
  }
  EXPECT_GT(importer->stats().stalls, 0u);
  EXPECT_LT(importer->stats().messages, 50u);
}

}  // namespace
}  // namespace zc::test
