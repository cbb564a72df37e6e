// A JetStream export into a stream that refuses part of what it is sent (a message limit with
// "discard new"): every refusal the server answers along the way is counted as not stored, not
// only what was still unanswered at the end.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "nats_test_support.hpp"
#include "nats_text_client.hpp"
#include "zcopy/channel/publisher.hpp"
#include "zcopy/channel/subscriber.hpp"
#include "zcopy/nats/exporter.hpp"
#include "zcopy/net/tcp.hpp"

namespace zc::test {
namespace {

using namespace std::chrono_literals;

TEST(NatsJetStreamRefused, PublishesTheStreamRefusesAreCountedAsNotStored) {
  ZC_REQUIRE_PROGRAM("nats-server");
  constexpr std::uint64_t kLimit = 100;
  constexpr std::uint64_t kMessages = 300;
  bench::TempDir dir("zcopy-nats-refused");
  ASSERT_FALSE(dir.path().empty());
  auto server = bench::start_nats_server({.dir = dir.path(), .jetstream = true});
  ASSERT_TRUE(server) << server.error().message();

  // The stream, made beforehand through the JetStream API: it keeps kLimit messages and refuses
  // the rest.
  std::string why;
  auto connected = text_client_to(server->port(), why);
  ASSERT_TRUE(connected) << why;
  TextClient& client = *connected;
  const std::string config = R"({"name":"LIMITED","subjects":["limited.data"],"max_msgs":)" +
                             std::to_string(kLimit) +
                             R"(,"discard":"new","storage":"memory","num_replicas":1})";
  ASSERT_TRUE(
      client.send("CONNECT {\"verbose\":false,\"protocol\":1}\r\nSUB made 1\r\n"
                  "PUB $JS.API.STREAM.CREATE.LIMITED made " +
                  std::to_string(config.size()) + "\r\n" + config + "\r\n"));
  auto head = client.line();
  ASSERT_TRUE(head && head->starts_with("MSG made 1 ")) << head.value_or("(nothing)");
  auto reply = client.line();
  ASSERT_TRUE(reply && reply->find("\"error\"") == std::string::npos)
      << reply.value_or("(nothing)");

  const std::string source = unique_channel("refused-source");
  auto publisher = Publisher::create(source, {.chunk_size = 1024, .chunk_count = 64});
  ASSERT_TRUE(publisher);
  auto subscriber = connect_in_process(*publisher, source);
  ASSERT_TRUE(subscriber);
  auto nats = nats::NatsConnection::connect({.urls = {server->url()}});
  ASSERT_TRUE(nats) << nats.error().message();
  auto exporter =
      nats::Exporter::create(std::move(*nats), std::move(*subscriber),
                             {.subject = "limited.data", .jetstream_stream = "LIMITED"});
  ASSERT_TRUE(exporter) << exporter.error().message();
  EXPECT_EQ(feed_and_export(*publisher, *exporter, kMessages, [](std::uint64_t) { return 64; }),
            "");
  const nats::ExportStats stats = exporter->stats();
  EXPECT_EQ(stats.messages, kMessages);
  EXPECT_EQ(stats.not_stored, kMessages - kLimit);
}

}  // namespace
}  // namespace zc::test
