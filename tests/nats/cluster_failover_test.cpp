// Three nats-servers in a cluster on loopback: the server the import uses is killed mid-stream;
// the import moves to another and carries on, and in core NATS mode what was lost meanwhile is
// counted from the exporter's sequence numbers, exactly.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "nats_test_support.hpp"
#include "zcopy/channel/publisher.hpp"
#include "zcopy/channel/subscriber.hpp"
#include "zcopy/nats/exporter.hpp"
#include "zcopy/nats/importer.hpp"

namespace zc::test {
namespace {

using namespace std::chrono_literals;

TEST(NatsClusterFailover, CoreImportMovesOnAndCountsWhatWasLost) {
  ZC_REQUIRE_PROGRAM("nats-server");
  constexpr std::uint64_t kMessages = 8'000;
  bench::TempDir dir("zcopy-nats-cluster");
  ASSERT_FALSE(dir.path().empty());
  std::vector<std::uint16_t> routes;
  for (std::size_t i = 0; i < 3; ++i) routes.push_back(bench::free_port());
  std::vector<bench::NatsServer> servers;
  for (std::size_t i = 0; i < 3; ++i) {
    std::vector<std::string> others;
    for (std::size_t j = 0; j < 3; ++j) {
      if (j != i) others.push_back("nats-route://127.0.0.1:" + std::to_string(routes[j]));
    }
    auto server = bench::start_nats_server({.dir = dir.path(),
                                            .name = "n" + std::to_string(i),
                                            .cluster = "zcopy",
                                            .cluster_port = routes[i],
                                            .routes = others});
    ASSERT_TRUE(server) << server.error().message();
    servers.push_back(std::move(*server));
  }
  // A full mesh first: interest must travel between any two of them once n0 is gone.
  auto routes_up = [&] {
    for (const bench::NatsServer& server : servers) {
      const std::string log = bench::read_text(server.log());
      std::size_t routes_made = 0;
      for (std::size_t at = log.find("Route connection created"); at != std::string::npos;
           at = log.find("Route connection created", at + 1)) {
        ++routes_made;
      }
      if (routes_made < 2) return false;
    }
    return true;
  };
  for (int waited = 0; !routes_up() && waited < 500; ++waited) std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(routes_up()) << "the cluster did not form";
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
  std::thread import_thread([&] {
    while (!stop.load()) {
      if (!importer->run_for(10ms)) return;
      for (;;) {
        auto sample = reader->try_receive();
        if (!sample || !*sample) break;
        std::uint64_t index = 0;
        std::memcpy(&index, (*sample)->bytes().data(), sizeof index);
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
    }
  });

  // Stops the import thread however the test ends.
  struct Joiner {
    std::atomic<bool>& stop;
    std::thread& thread;
    ~Joiner() {
      stop.store(true);
      if (thread.joinable()) thread.join();
    }
  } joiner{stop, import_thread};

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

}  // namespace
}  // namespace zc::test
