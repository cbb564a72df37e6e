// A durable JetStream import whose local subscriber is slow. The import fetches no more than the
// channel has chunks free for: a batch fetched beyond that waited in the import for room, aged
// past its ack wait, and the server delivered it again although nothing had gone wrong.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "nats_test_support.hpp"
#include "sequenced_import.hpp"
#include "zcopy/channel/publisher.hpp"
#include "zcopy/nats/exporter.hpp"
#include "zcopy/nats/importer.hpp"

namespace zc::test {
namespace {

using namespace std::chrono_literals;

TEST(NatsJetStreamSlowReader, AFetchTakesOnlyWhatTheChannelHasRoomForAndNothingComesTwice) {
  ZC_REQUIRE_PROGRAM("nats-server");
  constexpr std::uint64_t kMessages = 80;
  constexpr std::size_t kSize = 64;
  bench::TempDir dir("zcopy-nats-js-slow");
  ASSERT_FALSE(dir.path().empty());
  auto server = bench::start_nats_server({.dir = dir.path(), .jetstream = true});
  ASSERT_TRUE(server) << server.error().message();
  const std::string source = unique_channel("jsslow-source");
  auto publisher = Publisher::create(source, {.chunk_size = 1024, .chunk_count = 64});
  ASSERT_TRUE(publisher);
  auto exporter_sub = connect_in_process(*publisher, source);
  ASSERT_TRUE(exporter_sub);
  auto exporter_nats = nats::NatsConnection::connect({.urls = {server->url()}});
  ASSERT_TRUE(exporter_nats) << exporter_nats.error().message();
  auto exporter = nats::Exporter::create(std::move(*exporter_nats), std::move(*exporter_sub),
                                         {.subject = "slow.data", .jetstream_stream = "SLOW"});
  ASSERT_TRUE(exporter) << exporter.error().message();
  ASSERT_EQ(feed_and_export(*publisher, *exporter, kMessages, [](std::uint64_t) { return kSize; }),
            "");

  auto importer_nats = nats::NatsConnection::connect({.urls = {server->url()}});
  ASSERT_TRUE(importer_nats) << importer_nats.error().message();
  const std::string local = unique_channel("jsslow");
  // Four chunks, read at 40 ms each: what the channel holds is read within a fraction of the
  // 2 s ack wait, while a fetch of 64 takes 2.5 s to read through.
  auto channel = Publisher::create(local, {.chunk_size = 1024, .chunk_count = 4, .queue_depth = 4});
  ASSERT_TRUE(channel);
  auto importer = nats::Importer::create(
      std::move(*importer_nats), std::move(*channel),
      {.subject = "slow.data", .durable = "slow", .ack_wait = 2s, .sequence_prefix = true});
  ASSERT_TRUE(importer) << importer.error().message();
  auto reader = connect_in_process(importer->publisher(), local);
  ASSERT_TRUE(reader);
  SequencedImport import(*importer, *reader, kMessages, kSize, 40ms);
  // Bounded far beyond the 3.2 s the stream takes to read.
  ASSERT_TRUE(import.wait_for(kMessages, 60s)) << import.failure();
  import.stop();
  EXPECT_EQ(import.duplicates(), 0u);
  EXPECT_EQ(importer->stats().redelivered, 0u);
}

}  // namespace
}  // namespace zc::test
