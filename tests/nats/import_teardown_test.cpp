// An import ended while messages keep pouring in. The NATS client's reader thread may be holding
// the subscription of a message it is queueing at that moment; the subscription must outlive it
// (libnats before 3.6 did not keep it alive itself, and the process died in the reader).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "nats_test_support.hpp"
#include "nats_text_client.hpp"
#include "zcopy/channel/publisher.hpp"
#include "zcopy/nats/importer.hpp"

namespace zc::test {
namespace {

using namespace std::chrono_literals;

TEST(NatsImportTeardown, AnImportEndedWhileMessagesPourInEndsCleanly) {
  ZC_REQUIRE_PROGRAM("nats-server");
  bench::TempDir dir("zcopy-nats");
  auto server = bench::start_nats_server({.dir = dir.path()});
  ASSERT_TRUE(server) << server.error().message();
  const std::string subject = "teardown." + std::to_string(::getpid());
  // A text-protocol peer keeps the subject busy: the import's reader thread is always inside a
  // message when the import goes.
  std::string why;
  auto peer = text_client_to(server->port(), why);
  ASSERT_TRUE(peer) << why;
  std::string batch;
  for (int i = 0; i < 64; ++i) {
    batch += "PUB " + subject + " 4096\r\n" + std::string(4096, 'x') + "\r\n";
  }
  std::atomic<bool> stop{false};
  std::thread pouring([&] {
    while (!stop.load() && peer->send(batch)) {
    }
  });
  struct Join {
    std::atomic<bool>& stop;
    std::thread& thread;
    ~Join() {
      stop.store(true);
      thread.join();
    }
  } join{stop, pouring};
  constexpr int kRounds = 40;
  int rounds = 0;
  for (; rounds < kRounds; ++rounds) {
    auto nats = nats::NatsConnection::connect({.urls = {server->url()}});
    ASSERT_TRUE(nats) << nats.error().message();
    auto channel = Publisher::create(unique_channel("teardown"), {.chunk_size = 4096});
    ASSERT_TRUE(channel) << channel.error().message();
    auto importer =
        nats::Importer::create(std::move(*nats), std::move(*channel), {.subject = subject});
    ASSERT_TRUE(importer) << importer.error().message();
    // Within a bound only a broken import reaches; then the importer goes, mid-stream.
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (importer->stats().messages < 500 && std::chrono::steady_clock::now() < until) {
      ASSERT_TRUE(importer->run_for(5ms));
    }
    ASSERT_GE(importer->stats().messages, 500u);
  }
  EXPECT_EQ(rounds, kRounds);
}

}  // namespace
}  // namespace zc::test
