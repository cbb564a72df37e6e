// Interop with a NATS client that is not ours: this test speaks the NATS text protocol over a
// plain socket. What it publishes (HPUB, with a header of its own) arrives in the channel
// byte-exact; what the exporter publishes reaches it byte-exact, with the zcopy headers.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>

#include "nats_test_support.hpp"
#include "nats_text_client.hpp"
#include "zcopy/channel/publisher.hpp"
#include "zcopy/channel/subscriber.hpp"
#include "zcopy/nats/exporter.hpp"
#include "zcopy/nats/importer.hpp"
#include "zcopy/net/tcp.hpp"

namespace zc::test {
namespace {

using namespace std::chrono_literals;

TEST(NatsInterop, ATextProtocolClientAndTheBridgeUnderstandEachOther) {
  ZC_REQUIRE_PROGRAM("nats-server");
  bench::TempDir dir("zcopy-nats");
  auto server = bench::start_nats_server({.dir = dir.path()});
  ASSERT_TRUE(server) << server.error().message();
  std::string why;
  auto connected = text_client_to(server->port(), why);
  ASSERT_TRUE(connected) << why;
  TextClient& client = *connected;
  ASSERT_TRUE(
      client.send("CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true,"
                  "\"no_responders\":true,\"protocol\":1}\r\nSUB out.> 7\r\nPING\r\n"));
  ASSERT_EQ(client.line(), std::optional<std::string>("PONG"));

  // Theirs into our channel.
  const std::string local = unique_channel("interop");
  auto importer_nats = nats::NatsConnection::connect({.urls = {server->url()}});
  ASSERT_TRUE(importer_nats);
  auto channel = Publisher::create(local, {.chunk_size = 4096, .chunk_count = 8});
  ASSERT_TRUE(channel);
  auto importer =
      nats::Importer::create(std::move(*importer_nats), std::move(*channel), {.subject = "in.*"});
  ASSERT_TRUE(importer) << importer.error().message();
  auto reader = connect_in_process(importer->publisher(), local);
  ASSERT_TRUE(reader);
  const std::string payload = bench::random_bytes(3000, 5) + "\r\nnot a protocol line\r\n";
  const std::string headers = "NATS/1.0\r\nX-Theirs: yes\r\n\r\n";
  ASSERT_TRUE(client.send("HPUB in.theirs " + std::to_string(headers.size()) + " " +
                          std::to_string(headers.size() + payload.size()) + "\r\n" + headers +
                          payload + "\r\n"));
  std::optional<std::string> arrived;
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (!arrived && std::chrono::steady_clock::now() < until) {
    ASSERT_TRUE(importer->run_for(20ms));
    auto sample = reader->try_receive();
    ASSERT_TRUE(sample);
    if (*sample) {
      const auto bytes = (*sample)->bytes();
      arrived = std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
  }
  EXPECT_TRUE(arrived == payload) << "their message did not arrive byte-exact";

  // Ours to them.
  const std::string source = unique_channel("interop-source");
  auto publisher = Publisher::create(source, {.chunk_size = 4096, .chunk_count = 8});
  ASSERT_TRUE(publisher);
  auto exporter_sub = connect_in_process(*publisher, source);
  ASSERT_TRUE(exporter_sub);
  auto exporter_nats = nats::NatsConnection::connect({.urls = {server->url()}});
  ASSERT_TRUE(exporter_nats);
  auto exporter = nats::Exporter::create(std::move(*exporter_nats), std::move(*exporter_sub),
                                         {.subject = "out.ours"});
  ASSERT_TRUE(exporter);
  auto loan = publisher->loan();
  ASSERT_TRUE(loan);
  const std::string ours = bench::random_bytes(2500, 9);
  std::memcpy(loan->bytes().data(), ours.data(), ours.size());
  ASSERT_TRUE(publisher->publish(std::move(*loan), ours.size()));
  publisher->close();
  for (bool more = true; more;) {
    auto ran = exporter->run_for(1s);
    ASSERT_TRUE(ran) << ran.error().message();
    more = *ran;
  }
  // HMSG <subject> <sid> <header bytes> <total bytes>
  auto head = client.line();
  ASSERT_TRUE(head && head->starts_with("HMSG out.ours 7 ")) << head.value_or("(nothing)");
  std::size_t header_bytes = 0;
  std::size_t total_bytes = 0;
  ASSERT_EQ(std::sscanf(head->c_str() + 16, "%zu %zu", &header_bytes, &total_bytes), 2);
  auto their_headers = client.bytes(header_bytes);
  auto their_payload = client.bytes(total_bytes - header_bytes);
  ASSERT_TRUE(their_headers && their_payload);
  EXPECT_TRUE(*their_payload == ours) << "our message did not reach them byte-exact";
  EXPECT_NE(their_headers->find("Zcopy-Sequence: 0\r\n"), std::string::npos) << *their_headers;
  EXPECT_NE(their_headers->find("Zcopy-Host: "), std::string::npos) << *their_headers;
  EXPECT_NE(their_headers->find("Zcopy-Published: "), std::string::npos) << *their_headers;
}

}  // namespace
}  // namespace zc::test
