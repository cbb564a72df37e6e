// A durable JetStream import whose fetches fail under it. Its only server killed mid-stream and
// started again on the same port and store: while it is away the fetches time out, and while a
// server answers without JetStream (as one does that has not recovered its store yet) they fail
// with "no responders"; both are retried with a backoff, and once JetStream is back every message
// arrives, each duplicate recognised by its stream sequence. Its consumer deleted: made again,
// and the stream arrives whole. Its stream deleted: the consumer cannot be made again, and the
// import stops with the error.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "nats_test_support.hpp"
#include "nats_text_client.hpp"
#include "sequenced_import.hpp"
#include "zcopy/channel/publisher.hpp"
#include "zcopy/nats/exporter.hpp"
#include "zcopy/nats/importer.hpp"

namespace zc::test {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t kMessages = 6'000;
constexpr std::size_t kSize = 64;

// A server with stream STORE (kMessages messages on fail.data, file storage) and a durable
// import of it (consumer "fail", 2 s ack wait) read on its own thread.
struct Rig {
  bench::TempDir dir{"zcopy-nats-js-fail"};
  bench::NatsServerConfig config{.dir = dir.path(), .name = "alone", .jetstream = true};
  bench::NatsServer server;
  std::optional<nats::Importer> importer;
  std::optional<Subscriber> reader;
  std::unique_ptr<SequencedImport> import;

  void start() {
    ASSERT_FALSE(dir.path().empty());
    auto started = bench::start_nats_server(config);
    ASSERT_TRUE(started) << started.error().message();
    server = std::move(*started);
    const std::string source = unique_channel("jsfail-source");
    auto publisher = Publisher::create(source, {.chunk_size = 1024, .chunk_count = 64});
    ASSERT_TRUE(publisher);
    auto exporter_sub = connect_in_process(*publisher, source);
    ASSERT_TRUE(exporter_sub);
    auto exporter_nats = nats::NatsConnection::connect({.urls = {server.url()}});
    ASSERT_TRUE(exporter_nats) << exporter_nats.error().message();
    auto exporter = nats::Exporter::create(std::move(*exporter_nats), std::move(*exporter_sub),
                                           {.subject = "fail.data", .jetstream_stream = "STORE"});
    ASSERT_TRUE(exporter) << exporter.error().message();
    ASSERT_EQ(
        feed_and_export(*publisher, *exporter, kMessages, [](std::uint64_t) { return kSize; }), "");
    ASSERT_EQ(exporter->stats().not_stored, 0u);

    auto importer_nats =
        nats::NatsConnection::connect({.urls = {server.url()}, .reconnect_wait = 50ms});
    ASSERT_TRUE(importer_nats) << importer_nats.error().message();
    const std::string local = unique_channel("jsfail");
    auto channel = Publisher::create(local, {.chunk_size = 1024, .chunk_count = 64});
    ASSERT_TRUE(channel);
    auto made = nats::Importer::create(
        std::move(*importer_nats), std::move(*channel),
        {.subject = "fail.data", .durable = "fail", .ack_wait = 2s, .sequence_prefix = true});
    ASSERT_TRUE(made) << made.error().message();
    importer.emplace(std::move(*made));
    auto connected = connect_in_process(importer->publisher(), local);
    ASSERT_TRUE(connected);
    reader.emplace(std::move(*connected));
    import = std::make_unique<SequencedImport>(*importer, *reader, kMessages, kSize);
    ASSERT_TRUE(import->wait_for(kMessages / 4, 60s)) << import->failure();
  }
  // Waits (bounded far beyond what the rest of the stream takes) for the whole stream, stops the
  // import, and says what the consumer looked like if it did not all arrive.
  std::string finish(std::uint16_t port) {
    const std::string consumer =
        import->wait_for(kMessages, 60s) ? "" : jetstream_api(port, "CONSUMER.INFO.STORE.fail");
    import->stop();
    return consumer;
  }
};

TEST(NatsJetStreamFetchFailure, ImportCarriesOnAcrossAServerRestartAndLosesNothing) {
  ZC_REQUIRE_PROGRAM("nats-server");
  Rig rig;
  rig.start();
  if (HasFatalFailure()) return;
  const std::uint16_t port = rig.server.port();
  rig.server.kill_now();
  // Away long enough for the import to fetch into the void several times.
  std::this_thread::sleep_for(1s);
  bench::NatsServerConfig again = rig.config;
  again.port = port;
  again.jetstream = false;
  {
    auto without_jetstream = bench::start_nats_server(again);
    ASSERT_TRUE(without_jetstream) << without_jetstream.error().message();
    // Long enough for the import to reconnect and be answered "no responders" several times.
    std::this_thread::sleep_for(1500ms);
    without_jetstream->kill_now();
  }
  again.jetstream = true;
  auto restarted = bench::start_nats_server(again);
  ASSERT_TRUE(restarted) << restarted.error().message();
  const std::string consumer = rig.finish(port);
  const nats::ImportStats stats = rig.importer->stats();
  EXPECT_EQ(rig.import->failure(), "");
  EXPECT_EQ(rig.import->distinct(), kMessages)
      << consumer << "\nimported " << stats.messages << ", fetch retries " << stats.fetch_retries
      << ", highest " << rig.import->highest();
  EXPECT_GE(stats.connection.reconnects, 2u);
  EXPECT_GE(stats.fetch_retries, 1u);
  std::printf("reconnects %llu, fetch retries %llu, duplicates flagged %llu\n",
              static_cast<unsigned long long>(stats.connection.reconnects),
              static_cast<unsigned long long>(stats.fetch_retries),
              static_cast<unsigned long long>(rig.import->duplicates()));
}

TEST(NatsJetStreamFetchFailure, ADeletedConsumerIsMadeAgainAndTheStreamArrivesWhole) {
  ZC_REQUIRE_PROGRAM("nats-server");
  Rig rig;
  rig.start();
  if (HasFatalFailure()) return;
  const std::string deleted = jetstream_api(rig.server.port(), "CONSUMER.DELETE.STORE.fail");
  ASSERT_NE(deleted.find("\"success\":true"), std::string::npos) << deleted;
  const std::string consumer = rig.finish(rig.server.port());
  const nats::ImportStats stats = rig.importer->stats();
  EXPECT_EQ(rig.import->failure(), "");
  EXPECT_EQ(rig.import->distinct(), kMessages) << consumer << "\nimported " << stats.messages;
  EXPECT_GE(stats.consumer_remade, 1u);
}

TEST(NatsJetStreamFetchFailure, ADeletedStreamEndsTheImportWithTheError) {
  ZC_REQUIRE_PROGRAM("nats-server");
  Rig rig;
  rig.start();
  if (HasFatalFailure()) return;
  const std::string deleted = jetstream_api(rig.server.port(), "STREAM.DELETE.STORE");
  ASSERT_NE(deleted.find("\"success\":true"), std::string::npos) << deleted;
  // Bounded far beyond a few fetches; an import that keeps retrying never fails.
  const auto until = std::chrono::steady_clock::now() + 30s;
  while (rig.import->failure().empty() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(20ms);
  }
  rig.import->stop();
  EXPECT_NE(rig.import->failure().find("cannot be made again"), std::string::npos)
      << rig.import->failure();
}

}  // namespace
}  // namespace zc::test
