// The receiving side of a durable JetStream import (the import and its local subscribers) killed
// twenty times mid-stream and started again: every local subscriber ends with every message at
// least once, byte-exact, and each duplicate a restart brings is recognised by its stream sequence.
// The subscribers die with the import, so what sat unread in the channel must come again from the
// server: an import that acknowledged on publish, not on release, loses it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "nats_test_support.hpp"
#include "zcopy/channel/publisher.hpp"
#include "zcopy/channel/subscriber.hpp"
#include "zcopy/nats/exporter.hpp"

namespace zc::test {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t kMessages = 20'000;

std::size_t message_size(std::uint64_t index) {
  return 8 + (index * 7919) % 2000;
}

std::uint64_t read_u64(std::span<const std::byte> bytes) {
  std::uint64_t value = 0;
  std::memcpy(&value, bytes.data(), sizeof value);
  return value;
}

// Stores kMessages in stream `stream` through the library's exporter.
void export_all(const std::string& url, const std::string& subject, const std::string& stream) {
  const std::string source = unique_channel("js-source");
  auto publisher = Publisher::create(source, {.chunk_size = 4096, .chunk_count = 64});
  ASSERT_TRUE(publisher) << publisher.error().message();
  auto subscriber = connect_in_process(*publisher, source);
  ASSERT_TRUE(subscriber) << subscriber.error().message();
  auto nats = nats::NatsConnection::connect({.urls = {url}});
  ASSERT_TRUE(nats) << nats.error().message();
  auto exporter = nats::Exporter::create(std::move(*nats), std::move(*subscriber),
                                         {.subject = subject, .jetstream_stream = stream});
  ASSERT_TRUE(exporter) << exporter.error().message();
  ASSERT_EQ(feed_and_export(*publisher, *exporter, kMessages, message_size), "");
  EXPECT_EQ(exporter->stats().messages, kMessages);
  EXPECT_EQ(exporter->stats().not_stored, 0u);
}

// One local subscriber across restarts of the receiving side. A thread cannot be SIGKILLed on its
// own, but one that stops reading on `dying`, keeps what it holds until the import is dead and
// only then lets go is, to the bridge, a subscriber killed with it: nothing it left unread or
// held was released while the import lived. It then joins the next import.
struct Reader {
  std::vector<std::uint8_t> seen = std::vector<std::uint8_t>(kMessages, 0);
  std::atomic<std::uint64_t> distinct{0};  // read by the main thread while this one runs
  std::atomic<bool> dead{false};           // stopped reading; set by this thread
  std::uint64_t duplicates = 0;
  std::string failure;

  // Counts one message; false (with `failure` set) when it is not what was sent.
  bool take(std::span<const std::byte> bytes, std::vector<std::byte>& scratch) {
    if (bytes.size() < 16) {
      failure = "a message of " + std::to_string(bytes.size()) + " bytes";
      return false;
    }
    const std::uint64_t stream_sequence = read_u64(bytes);
    const std::uint64_t index = stream_sequence - 1;
    if (index >= kMessages ||
        !check_message(bytes.subspan(8), index, message_size(index), scratch)) {
      failure = "stream sequence " + std::to_string(stream_sequence) + " is not as sent";
      return false;
    }
    if (seen[index] != 0) {
      ++duplicates;  // flagged by its stream sequence
    } else {
      seen[index] = 1;
      ++distinct;
    }
    return true;
  }

  // `count_held`: when the import is about to die, count the sample in hand before holding it.
  // Held, its chunk is not released, so its message cannot have been acknowledged and must come
  // again after the kill: a duplicate that the stream sequence has to flag, whatever the timing.
  void run(const std::string& channel, const std::atomic<bool>& stop,
           const std::atomic<bool>& dying, bool count_held) {
    std::vector<std::byte> scratch;
    // Both readers stay subscribed until the test stops them: an import waits for both, and one
    // reader may be done while the other still waits for a redelivery.
    while (!stop.load()) {
      auto subscriber = Subscriber::connect(channel, 2s);
      if (!subscriber) continue;
      while (!stop.load()) {
        auto sample = subscriber->receive(200ms);
        if (dying.load()) {
          if (count_held && sample && !take(sample->bytes(), scratch)) return;
          // Holds the sample (if any) and the subscriber until the import is gone.
          dead.store(true);
          while (dying.load()) std::this_thread::sleep_for(5ms);
          dead.store(false);
          break;
        }
        if (!sample) {
          if (sample.error().code() == Errc::timeout && !stop.load()) continue;
          break;  // the import died or stopped: join its successor
        }
        if (!take(sample->bytes(), scratch)) return;
      }
    }
  }
};

TEST(NatsJetStreamRestart, SigkilledReceivingSideLosesNothingAndFlagsDuplicates) {
  ZC_REQUIRE_TOOL();
  ZC_REQUIRE_PROGRAM("nats-server");
  bench::TempDir dir("zcopy-nats-js");
  ASSERT_FALSE(dir.path().empty());
  auto server = bench::start_nats_server({.dir = dir.path(), .jetstream = true});
  ASSERT_TRUE(server) << server.error().message();
  const std::string subject = "js.restart." + std::to_string(::getpid());
  export_all(server->url(), subject, "RESTART");
  if (HasFatalFailure()) return;

  const std::string local = unique_channel("js-local");
  const std::vector<std::string> import = {zcopy_tool(),
                                           "channel",
                                           "import",
                                           subject,
                                           "--nats",
                                           server->url(),
                                           "--channel",
                                           local,
                                           "--durable",
                                           "restart",
                                           "--ack-wait",
                                           "1",
                                           "--with-sequence",
                                           "--subscribers",
                                           "2",
                                           "--chunks",
                                           "16",
                                           "--depth",
                                           "8"};
  std::atomic<bool> stop{false};
  std::atomic<bool> dying{false};
  std::vector<Reader> readers(2);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < readers.size(); ++i) {
    threads.emplace_back([&, i] { readers[i].run(local, stop, dying, i == 0); });
  }
  auto all_dead = [&] {
    for (const Reader& reader : readers) {
      if (!reader.dead.load() && reader.distinct.load() < kMessages) return false;
    }
    return true;
  };

  std::mt19937 random(7);
  const std::string log = dir / "import.log";
  int kills = 0;
  for (; kills < 20; ++kills) {
    auto process = bench::Process::spawn(
        import,
        {.out = bench::Output::file, .err = bench::Output::file, .file = log, .append = true});
    ASSERT_TRUE(process) << process.error().message();
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + random() % 200));
    dying.store(true);
    // Each reader stops within one receive timeout; bounded so that a stuck one fails the test.
    for (int waited = 0; !all_dead() && waited < 2000; ++waited) std::this_thread::sleep_for(5ms);
    const bool stopped = all_dead();
    process->signal(SIGKILL);
    const bench::Exit exit = process->wait();
    dying.store(false);
    EXPECT_TRUE(stopped) << "a reader did not stop";
    EXPECT_EQ(exit.code, 128 + SIGKILL) << bench::read_text(log);
  }
  auto last = bench::Process::spawn(
      import,
      {.out = bench::Output::file, .err = bench::Output::file, .file = log, .append = true});
  ASSERT_TRUE(last) << last.error().message();
  // Far longer than the stream takes; a bridge that loses messages never gets there.
  const auto until = std::chrono::steady_clock::now() + 120s;
  while (std::chrono::steady_clock::now() < until &&
         (readers[0].distinct.load() < kMessages || readers[1].distinct.load() < kMessages)) {
    std::this_thread::sleep_for(50ms);
  }
  stop.store(true);
  last->stop(SIGTERM);
  for (std::thread& thread : threads) thread.join();
  std::uint64_t duplicates = 0;
  for (const Reader& reader : readers) {
    EXPECT_EQ(reader.failure, "");
    EXPECT_EQ(reader.distinct.load(), kMessages) << bench::read_text(log);
    duplicates += reader.duplicates;
  }
  // Reader 0 counted the sample it held at each kill that caught one: those come again.
  EXPECT_GT(duplicates, 0u);
  std::printf("%d kills, %llu duplicates flagged\n", kills,
              static_cast<unsigned long long>(duplicates));
}

}  // namespace
}  // namespace zc::test
