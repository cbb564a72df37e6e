// Three nats-servers in a cluster on loopback: the server the import uses is killed mid-stream;
// the import moves to another and carries on. In core NATS mode what was lost meanwhile is counted
// from the exporter's sequence numbers, exactly; in JetStream mode (a stream with three replicas)
// nothing is lost: once duplicates are dropped the stream sequences run without a hole.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "nats_test_cluster.hpp"
#include "nats_test_support.hpp"
#include "nats_text_client.hpp"
#include "sequenced_import.hpp"
#include "zcopy/channel/publisher.hpp"
#include "zcopy/channel/subscriber.hpp"
#include "zcopy/nats/exporter.hpp"
#include "zcopy/nats/importer.hpp"
#include "zcopy/net/tcp.hpp"

namespace zc::test {
namespace {

using namespace std::chrono_literals;

TEST(NatsClusterFailover, CoreImportMovesOnAndCountsWhatWasLost) {
  ZC_REQUIRE_PROGRAM("nats-server");
  constexpr std::uint64_t kMessages = 8'000;
  bench::TempDir dir("zcopy-nats-cluster");
  ASSERT_FALSE(dir.path().empty());
  std::vector<bench::NatsServer> servers;
  start_nats_cluster(dir.path(), false, servers);
  if (HasFatalFailure()) return;
  // The import starts on n0, which dies; the export publishes to n2, which stays.
  auto importer_nats = nats::NatsConnection::connect(
      {.urls = {servers[0].url(), servers[1].url()}, .reconnect_wait = 50ms});
  ASSERT_TRUE(importer_nats) << importer_nats.error().message();
  const std::string local = unique_channel("failover");
  auto channel = Publisher::create(local, {.chunk_size = 1024, .chunk_count = 64});
  ASSERT_TRUE(channel);
  auto importer =
      nats::Importer::create(std::move(*importer_nats), std::move(*channel), {.subject = "fo.>"});
  ASSERT_TRUE(importer) << importer.error().message();
  auto reader = connect_in_process(importer->publisher(), local);
  ASSERT_TRUE(reader);

  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint64_t> newest{0};
  std::uint64_t first_index = kMessages;
  std::uint64_t last_index = 0;
  bool ordered = true;
  // The import and the local subscriber on threads of their own, as an import and a subscriber
  // process are: a reader on the import's thread leaves the channel full while the import waits.
  std::thread import_thread([&] {
    while (!stop.load()) {
      if (!importer->run_for(10ms)) return;
    }
  });
  std::thread read_thread([&] {
    while (!stop.load()) {
      auto sample = reader->receive(50ms);
      if (!sample) {
        if (sample.error().code() == Errc::timeout) continue;
        return;
      }
      std::uint64_t index = 0;
      std::memcpy(&index, sample->bytes().data(), sizeof index);
      index = (index ^ 0x5a5a) >> 32;
      if (first_index == kMessages) {
        first_index = index;
      } else if (index <= last_index) {
        ordered = false;
      }
      last_index = index;
      newest.store(index);
      received.fetch_add(1);
    }
  });

  // Stops both threads however the test ends.
  struct Joiner {
    std::atomic<bool>& stop;
    std::thread& importing;
    std::thread& reading;
    ~Joiner() {
      stop.store(true);
      if (importing.joinable()) importing.join();
      if (reading.joinable()) reading.join();
    }
  } joiner{stop, import_thread, read_thread};

  const std::string source = unique_channel("failover-source");
  auto publisher = Publisher::create(source, {.chunk_size = 1024, .chunk_count = 64});
  ASSERT_TRUE(publisher);
  auto exporter_sub = connect_in_process(*publisher, source);
  ASSERT_TRUE(exporter_sub);
  auto exporter_nats = nats::NatsConnection::connect({.urls = {servers[2].url()}});
  ASSERT_TRUE(exporter_nats);
  auto exporter = nats::Exporter::create(std::move(*exporter_nats), std::move(*exporter_sub),
                                         {.subject = "fo.data"});
  ASSERT_TRUE(exporter);
  bool killed = false;
  for (std::uint64_t i = 0; i < kMessages; ++i) {
    auto loan = publisher->loan();
    ASSERT_TRUE(loan);
    fill_message(loan->bytes().first(64), i);
    ASSERT_TRUE(publisher->publish(std::move(*loan), 64));
    ASSERT_TRUE(exporter->run_for(1ms));
    if (!killed && received.load() >= kMessages / 4) {
      servers[0].kill_now();
      killed = true;
    }
    std::this_thread::sleep_for(100us);  // a stream, not a burst
  }
  publisher->close();
  for (bool more = true; more;) {
    auto ran = exporter->run_for(1s);
    ASSERT_TRUE(ran) << ran.error().message();
    more = *ran;
  }
  // The last message shows the import is on the other server and how much was lost on the way.
  const auto until = std::chrono::steady_clock::now() + 20s;
  while (newest.load() != kMessages - 1 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(20ms);
  }
  stop.store(true);
  import_thread.join();
  read_thread.join();
  ASSERT_TRUE(killed) << "the stream ended before a quarter arrived";
  const nats::ImportStats stats = importer->stats();
  EXPECT_TRUE(ordered);
  EXPECT_GE(stats.connection.reconnects, 1u);
  EXPECT_EQ(last_index, kMessages - 1) << "the import did not carry on after the fail-over";
  // Every message from the first one seen is either delivered or counted as lost.
  EXPECT_EQ(stats.messages + stats.lost, kMessages - first_index);
  std::printf("delivered %llu, lost %llu (counted from sequence numbers), reconnects %llu\n",
              static_cast<unsigned long long>(stats.messages),
              static_cast<unsigned long long>(stats.lost),
              static_cast<unsigned long long>(stats.connection.reconnects));
}

// The import and its local subscriber run on threads of their own, as an import and a subscriber
// process do. With the subscriber reading on the import's thread, the import blocked for the
// channel's whole timeout (1 s) whenever the channel was full, fetched batches waited past the
// 2 s ack wait and came again, and redeliveries took up most of what it fetched: the stream
// crawled (about 5 100 of 6 000 in 60 s), which looked like a consumer stalled by the fail-over.
TEST(NatsClusterFailover, JetStreamImportMovesOnAndLeavesNoHole) {
  ZC_REQUIRE_PROGRAM("nats-server");
  constexpr std::uint64_t kMessages = 6'000;
  bench::TempDir dir("zcopy-nats-jscluster");
  ASSERT_FALSE(dir.path().empty());
  std::vector<bench::NatsServer> servers;
  start_nats_cluster(dir.path(), true, servers);
  if (HasFatalFailure()) return;

  // The whole stream first, through n2, into three replicas.
  const std::string source = unique_channel("jsfo-source");
  auto publisher = Publisher::create(source, {.chunk_size = 1024, .chunk_count = 64});
  ASSERT_TRUE(publisher);
  auto exporter_sub = connect_in_process(*publisher, source);
  ASSERT_TRUE(exporter_sub);
  auto exporter_nats = nats::NatsConnection::connect({.urls = {servers[2].url()}});
  ASSERT_TRUE(exporter_nats) << exporter_nats.error().message();
  const nats::ExportOptions export_options{
      .subject = "jsfo.data", .jetstream_stream = "FAILOVER", .replicas = 3};
  // The cluster elects its JetStream leader a moment after the routes stand.
  auto exporter =
      nats::Exporter::create(std::move(*exporter_nats), std::move(*exporter_sub), export_options);
  for (int tries = 0; !exporter && tries < 100; ++tries) {
    std::this_thread::sleep_for(200ms);
    auto again_sub = connect_in_process(*publisher, source);
    auto again_nats = nats::NatsConnection::connect({.urls = {servers[2].url()}});
    ASSERT_TRUE(again_sub && again_nats);
    exporter =
        nats::Exporter::create(std::move(*again_nats), std::move(*again_sub), export_options);
  }
  ASSERT_TRUE(exporter) << exporter.error().message();
  EXPECT_EQ(feed_and_export(*publisher, *exporter, kMessages, [](std::uint64_t) { return 64; }),
            "");
  ASSERT_EQ(exporter->stats().messages, kMessages);
  ASSERT_EQ(exporter->stats().not_stored, 0u);

  // The import reads through n0, which dies a quarter of the way.
  auto importer_nats = nats::NatsConnection::connect(
      {.urls = {servers[0].url(), servers[1].url()}, .reconnect_wait = 50ms});
  ASSERT_TRUE(importer_nats) << importer_nats.error().message();
  const std::string local = unique_channel("jsfo");
  auto channel = Publisher::create(local, {.chunk_size = 1024, .chunk_count = 64});
  ASSERT_TRUE(channel);
  auto importer = nats::Importer::create(
      std::move(*importer_nats), std::move(*channel),
      {.subject = "jsfo.data", .durable = "failover", .ack_wait = 2s, .sequence_prefix = true});
  ASSERT_TRUE(importer) << importer.error().message();
  auto reader = connect_in_process(importer->publisher(), local);
  ASSERT_TRUE(reader);

  SequencedImport import(*importer, *reader, kMessages, 64);
  const bool quarter = import.wait_for(kMessages / 4, 30s);
  servers[0].kill_now();
  // Far longer than the rest of the stream and a leader election take.
  const bool all = import.wait_for(kMessages, 60s);
  const std::string consumer =
      all ? "" : jetstream_api(servers[1].port(), "CONSUMER.INFO.FAILOVER.failover");
  import.stop();
  EXPECT_TRUE(quarter) << "a quarter did not arrive before the kill";
  EXPECT_EQ(import.failure(), "");
  const nats::ImportStats stats = importer->stats();
  EXPECT_GE(stats.connection.reconnects, 1u);
  // Every stream sequence from 1 to the last arrived: no hole once duplicates are dropped.
  EXPECT_EQ(import.distinct(), kMessages)
      << consumer << "\nstalls " << stats.stalls << ", imported " << stats.messages << ", acked "
      << stats.acked << ", awaiting ack " << stats.awaiting_ack << ", redelivered "
      << stats.redelivered << ", fetch retries " << stats.fetch_retries << ", highest "
      << import.highest();
  std::printf("reconnects %llu, fetch retries %llu, duplicates dropped %llu\n",
              static_cast<unsigned long long>(stats.connection.reconnects),
              static_cast<unsigned long long>(stats.fetch_retries),
              static_cast<unsigned long long>(import.duplicates()));
}

}  // namespace
}  // namespace zc::test
