// Messages too large for the next hop are refused and counted, never cut: by the exporter when
// the server's max_payload is smaller, by the importer when the channel's chunk is smaller.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "nats_test_support.hpp"
#include "zcopy/channel/publisher.hpp"
#include "zcopy/channel/subscriber.hpp"
#include "zcopy/nats/exporter.hpp"
#include "zcopy/nats/importer.hpp"

namespace zc::test {
namespace {

using namespace std::chrono_literals;

struct Bridge {
  bench::TempDir dir{"zcopy-nats"};
  bench::NatsServer server;
  std::string source = unique_channel("source");
  std::string local = unique_channel("local");
};

// Publishes messages of `sizes` into `source` through an exporter, imports them into a channel
// of `local_chunk` bytes, and returns what one local subscriber received.
struct Outcome {
  std::vector<std::size_t> received{};
  nats::ExportStats exported{};
  nats::ImportStats imported{};
  std::string error{};
};

Outcome failed(std::string why) {
  Outcome out;
  out.error = std::move(why);
  return out;
}

Outcome run_bridge(Bridge& b, const std::vector<std::size_t>& sizes, std::size_t local_chunk) {
  Outcome out;
  auto importer_nats = nats::NatsConnection::connect({.urls = {b.server.url()}});
  auto exporter_nats = nats::NatsConnection::connect({.urls = {b.server.url()}});
  if (!importer_nats || !exporter_nats) return failed("connect");
  auto channel = Publisher::create(b.local, {.chunk_size = local_chunk, .chunk_count = 8});
  if (!channel) return failed(channel.error().message());
  auto importer =
      nats::Importer::create(std::move(*importer_nats), std::move(*channel), {.subject = "big.>"});
  if (!importer) return failed(importer.error().message());
  auto local = connect_in_process(importer->publisher(), b.local);
  auto source = Publisher::create(b.source, {.chunk_size = 16384, .chunk_count = 8});
  if (!source) return failed(source.error().message());
  auto exporter_sub = connect_in_process(*source, b.source);
  if (!local || !exporter_sub) return failed("subscribe");
  std::uint64_t index = 0;
  for (std::size_t size : sizes) {
    auto loan = source->loan();
    if (!loan) return failed(loan.error().message());
    fill_message(loan->bytes().first(size), index++);
    if (!source->publish(std::move(*loan), size)) return failed("publish");
  }
  source->close();
  auto exporter = nats::Exporter::create(std::move(*exporter_nats), std::move(*exporter_sub),
                                         {.subject = "big.one"});
  if (!exporter) return failed(exporter.error().message());
  for (;;) {
    auto more = exporter->run_for(1s);
    if (!more) return failed(more.error().message());
    if (!*more) break;
  }
  out.exported = exporter->stats();
  // Everything the exporter published reaches the importer: wait for it, within a bound only a
  // broken bridge reaches.
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (importer->stats().messages + importer->stats().oversized < out.exported.messages &&
         std::chrono::steady_clock::now() < until) {
    (void)importer->run_for(20ms);
  }
  out.imported = importer->stats();
  for (;;) {
    auto sample = local->try_receive();
    if (!sample || !*sample) break;
    out.received.push_back((*sample)->bytes().size());
  }
  return out;
}

TEST(NatsOversized, ExporterRefusesAndCountsWhatTheServerCannotTake) {
  ZC_REQUIRE_PROGRAM("nats-server");
  Bridge b;
  auto server = bench::start_nats_server({.dir = b.dir.path(), .max_payload = 4096});
  ASSERT_TRUE(server) << server.error().message();
  b.server = std::move(*server);
  const Outcome out = run_bridge(b, {100, 6000, 200}, 16384);
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.exported.refused, 1u);
  EXPECT_EQ(out.exported.messages, 2u);
  EXPECT_EQ(out.received, (std::vector<std::size_t>{100, 200}));
}

TEST(NatsOversized, ImporterRefusesAndCountsWhatExceedsTheChunk) {
  ZC_REQUIRE_PROGRAM("nats-server");
  Bridge b;
  auto server = bench::start_nats_server({.dir = b.dir.path(), .max_payload = 65536});
  ASSERT_TRUE(server) << server.error().message();
  b.server = std::move(*server);
  const Outcome out = run_bridge(b, {100, 2000, 1024, 300}, 1024);
  ASSERT_EQ(out.error, "");
  EXPECT_EQ(out.exported.messages, 4u);
  EXPECT_EQ(out.imported.oversized, 1u);
  EXPECT_EQ(out.imported.messages, 3u);
  EXPECT_EQ(out.received, (std::vector<std::size_t>{100, 1024, 300}));
}

}  // namespace
}  // namespace zc::test
