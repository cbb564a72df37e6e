// An import whose local subscriber lags, under drop-oldest: the channel takes back the oldest
// unread messages and every one is counted, by the importer and by the subscriber alike.
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

TEST(NatsImportOnFull, DropOldestCountsEveryMessageALaggingSubscriberLost) {
  ZC_REQUIRE_PROGRAM("nats-server");
  constexpr std::uint64_t kMessages = 200;
  bench::TempDir dir("zcopy-nats");
  auto server = bench::start_nats_server({.dir = dir.path()});
  ASSERT_TRUE(server) << server.error().message();
  const std::string local = unique_channel("full");
  const std::string source = unique_channel("full-source");

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

  auto publisher = Publisher::create(source, {.chunk_size = 1024, .chunk_count = 16});
  ASSERT_TRUE(publisher);
  auto exporter_sub = connect_in_process(*publisher, source);
  ASSERT_TRUE(exporter_sub);
  auto exporter_nats = nats::NatsConnection::connect({.urls = {server->url()}});
  ASSERT_TRUE(exporter_nats);
  auto exporter = nats::Exporter::create(std::move(*exporter_nats), std::move(*exporter_sub),
                                         {.subject = "full.x"});
  ASSERT_TRUE(exporter) << exporter.error().message();
  for (std::uint64_t i = 0; i < kMessages; ++i) {
    auto loan = publisher->loan();
    ASSERT_TRUE(loan);
    fill_message(loan->bytes().first(100), i);
    ASSERT_TRUE(publisher->publish(std::move(*loan), 100));
    auto ran = exporter->run_for(1ms);  // keeps the source channel flowing
    ASSERT_TRUE(ran);
  }
  publisher->close();
  for (bool more = true; more;) {
    auto ran = exporter->run_for(1s);
    ASSERT_TRUE(ran) << ran.error().message();
    more = *ran;
  }
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

}  // namespace
}  // namespace zc::test
