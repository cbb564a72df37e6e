// A channel exported in one process and imported in another through a real nats-server: 10^5
// messages from 1 byte to 1 MiB reach each of four local subscribers in order and byte-exact.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "nats_test_support.hpp"
#include "support/child_process.hpp"
#include "zcopy/channel/publisher.hpp"
#include "zcopy/channel/subscriber.hpp"
#include "zcopy/nats/exporter.hpp"
#include "zcopy/nats/importer.hpp"

namespace zc::test {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kMiB = 1024 * 1024;

// Mostly small messages, every 250th up to 1 MiB, every 1000th exactly 1 MiB.
std::size_t message_size(std::uint64_t index) {
  std::uint64_t x = index * 0x9E37'79B9'7F4A'7C15ULL + 1;
  x ^= x >> 31;
  x *= 0xBF58'476D'1CE4'E5B9ULL;
  x ^= x >> 29;
  if (index % 1000 == 0) return kMiB;
  if (index % 250 == 0) return 1 + static_cast<std::size_t>(x % kMiB);
  return 1 + static_cast<std::size_t>(x % 2048);
}

// The exporting process: the channel `source` onto `subject` until the channel closes.
int export_until_closed(const std::string& source, const std::string& url,
                        const std::string& subject) {
  auto subscriber = Subscriber::connect(source, 60s);
  if (!subscriber) return 10;
  auto nats = nats::NatsConnection::connect({.urls = {url}});
  if (!nats) return 11;
  auto exporter =
      nats::Exporter::create(std::move(*nats), std::move(*subscriber), {.subject = subject});
  if (!exporter) return 12;
  for (;;) {
    auto more = exporter->run_for(1s);
    if (!more) return 13;
    if (!*more) break;
  }
  const nats::ExportStats stats = exporter->stats();
  return stats.refused == 0 && stats.unsent == 0 ? 0 : 14;
}

TEST(NatsExportImport, MixedSizesArriveInOrderAndByteExactInFourLocalSubscribers) {
  ZC_REQUIRE_PROGRAM("nats-server");
  constexpr std::uint64_t kMessages = 100'000;
  constexpr std::size_t kSubscribers = 4;
  const std::string source = unique_channel("source");
  const std::string local = unique_channel("local");
  const std::string subject = "zcopy.test." + std::to_string(::getpid());

  bench::TempDir dir("zcopy-nats");
  ASSERT_FALSE(dir.path().empty());
  auto server = bench::start_nats_server({.dir = dir.path(), .max_payload = 2 * kMiB});
  ASSERT_TRUE(server) << server.error().message();
  // Forked before this process starts any libnats thread.
  const pid_t exporter = spawn([&] { return export_until_closed(source, server->url(), subject); });
  ASSERT_GT(exporter, 0);

  auto nats = nats::NatsConnection::connect({.urls = {server->url()}});
  ASSERT_TRUE(nats) << nats.error().message();
  auto channel = Publisher::create(
      local, {.chunk_size = kMiB, .chunk_count = 48, .queue_depth = 16, .timeout = 200ms});
  ASSERT_TRUE(channel) << channel.error().message();
  auto importer = nats::Importer::create(
      std::move(*nats), std::move(*channel),
      {.subject = "zcopy.test.*", .pending_messages = -1, .pending_bytes = -1});
  ASSERT_TRUE(importer) << importer.error().message();

  std::atomic<bool> stop{false};
  std::atomic<bool> all_joined{false};
  std::string import_error;
  std::thread import_thread([&] {
    while (!stop.load()) {
      if (auto ran = importer->run_for(50ms); !ran) {
        import_error = ran.error().message();
        return;
      }
      if (importer->publisher().stats().subscribers == kSubscribers) all_joined.store(true);
    }
  });

  std::vector<std::string> failures(kSubscribers);
  std::vector<std::uint64_t> received(kSubscribers, 0);
  std::vector<std::thread> readers;
  for (std::size_t r = 0; r < kSubscribers; ++r) {
    readers.emplace_back([&, r] {
      auto subscriber = Subscriber::connect(local, 30s);
      if (!subscriber) {
        failures[r] = subscriber.error().message();
        return;
      }
      std::vector<std::byte> scratch;
      for (std::uint64_t i = 0; i < kMessages; ++i) {
        auto sample = subscriber->receive(60s);
        if (!sample) {
          failures[r] = "message " + std::to_string(i) + ": " + sample.error().message();
          return;
        }
        if (sample->sequence() != i ||
            !check_message(sample->bytes(), i, message_size(i), scratch)) {
          failures[r] = "message " + std::to_string(i) + " arrived as sequence " +
                        std::to_string(sample->sequence()) + " with " +
                        std::to_string(sample->bytes().size()) + " bytes, not as sent";
          return;
        }
        ++received[r];
      }
    });
  }
  for (int waited = 0; !all_joined.load() && waited < 3000; ++waited)
    std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(all_joined.load()) << "local subscribers did not join";

  {
    auto publisher = Publisher::create(
        source, {.chunk_size = kMiB, .chunk_count = 16, .queue_depth = 16, .timeout = 30s});
    ASSERT_TRUE(publisher) << publisher.error().message();
    ASSERT_TRUE(publisher->wait_for_subscribers(1, 60s));
    for (std::uint64_t i = 0; i < kMessages; ++i) {
      auto loan = publisher->loan();
      ASSERT_TRUE(loan) << loan.error().message();
      const std::size_t size = message_size(i);
      fill_message(loan->bytes().first(size), i);
      auto sent = publisher->publish(std::move(*loan), size);
      ASSERT_TRUE(sent) << sent.error().message();
    }
    publisher->close();
    EXPECT_EQ(reap_within(exporter, 300s), std::optional<int>(0));
  }

  for (auto& reader : readers) reader.join();
  stop.store(true);
  import_thread.join();
  EXPECT_EQ(import_error, "");
  for (std::size_t r = 0; r < kSubscribers; ++r) {
    EXPECT_EQ(failures[r], "") << "subscriber " << r;
    EXPECT_EQ(received[r], kMessages) << "subscriber " << r;
  }
  const nats::ImportStats stats = importer->stats();
  EXPECT_EQ(stats.messages, kMessages);
  EXPECT_EQ(stats.lost, 0u);
  EXPECT_EQ(stats.oversized, 0u);
  EXPECT_EQ(stats.slow_consumer_dropped, 0u);
}

}  // namespace
}  // namespace zc::test
