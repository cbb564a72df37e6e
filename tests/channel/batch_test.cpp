// Batches of small messages: loan_n/publish_n on one side and receive_n on the other move many
// messages per queue-index store and per release-ring pass, with the same guarantees as one at a
// time: whole, in order, all or nothing, and every chunk back in the pool at the end.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <optional>
#include <thread>
#include <vector>

#include "channel/channel_test_support.hpp"
#include "support/sanitizer.hpp"

namespace {

using namespace zc::test;

// Loans up to `count` chunks, writes a self-checking message into each and publishes them as one
// batch. Returns how many went out.
zc::Result<std::size_t> publish_batch(zc::Publisher& publisher, std::size_t count) {
  std::array<zc::ChunkLoan, 16> loans;
  std::array<std::size_t, 16> lengths{};
  auto loaned = publisher.loan_n(std::span(loans).first(std::min(count, loans.size())));
  if (!loaned) return std::unexpected(loaned.error());
  const std::uint64_t first = publisher.stats().published;
  for (std::size_t i = 0; i < *loaned; ++i) lengths[i] = write_message(loans[i].bytes(), first + i);
  auto sent = publisher.publish_n(std::span(loans).first(*loaned),
                                  std::span<const std::size_t>(lengths).first(*loaned));
  if (!sent) return std::unexpected(sent.error());
  return *loaned;
}

TEST(Batch, MessagesPublishedAndReceivedInBatchesArriveWholeAndInOrder) {
  const std::string name = unique_channel("batch");
  auto publisher =
      zc::Publisher::create(name, {.chunk_size = 256, .chunk_count = 32, .queue_depth = 16});
  ASSERT_TRUE(publisher) << publisher.error().message();
  auto subscriber = connect_in_process(*publisher, name);
  ASSERT_TRUE(subscriber) << subscriber.error().message();

  auto sent = publish_batch(*publisher, 10);
  ASSERT_TRUE(sent) << sent.error().message();
  ASSERT_EQ(*sent, 10U);
  zc::SampleBatch batch;
  auto got = subscriber->receive_n(batch, 4, 1s);
  ASSERT_TRUE(got) << got.error().message();
  ASSERT_EQ(*got, 4U);
  auto rest = subscriber->try_receive_n(batch, 16);  // gives the first four back
  ASSERT_TRUE(rest);
  ASSERT_EQ(*rest, 6U);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    EXPECT_EQ(batch.sequence(i), 4 + i);
    EXPECT_TRUE(check_message(batch.bytes(i), batch.sequence(i)));
  }
  publisher->service();
  EXPECT_EQ(publisher->pool().stats().free, 32U - 6U) << "the first batch came back, not this one";
  batch.reset();
  auto none = subscriber->try_receive_n(batch, 16);
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, 0U);
  publisher->service();
  EXPECT_EQ(publisher->pool().stats().free, 32U);
  EXPECT_EQ(publisher->stats().rejected_returns, 0U);
}

TEST(Batch, ABatchThatDoesNotFitTimesOutDeliversNothingAndKeepsItsLoans) {
  const std::string name = unique_channel("batch-full");
  auto publisher = zc::Publisher::create(
      name, {.chunk_size = 128, .chunk_count = 16, .queue_depth = 4, .timeout = 50ms});
  ASSERT_TRUE(publisher);
  auto subscriber = connect_in_process(*publisher, name);
  ASSERT_TRUE(subscriber);
  ASSERT_TRUE(publish_message(*publisher));
  ASSERT_TRUE(publish_message(*publisher));

  std::array<zc::ChunkLoan, 3> loans;
  auto loaned = publisher->loan_n(loans);
  ASSERT_TRUE(loaned);
  ASSERT_EQ(*loaned, 3U);
  std::array<std::size_t, 3> lengths{};
  for (std::size_t i = 0; i < 3; ++i) lengths[i] = write_message(loans[i].bytes(), 2 + i);
  auto sent = publisher->publish_n(loans, lengths);
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code(), zc::Errc::timeout);
  for (const auto& loan : loans) EXPECT_TRUE(loan.valid()) << "the caller still owns its loans";
  EXPECT_EQ(publisher->stats().published, 2U);

  zc::SampleBatch batch;
  auto got = subscriber->try_receive_n(batch, 8);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, 2U) << "only the two single messages were queued";
  batch.reset();
  // Now it fits, and goes out whole.
  auto retried = publisher->publish_n(loans, lengths);
  ASSERT_TRUE(retried) << retried.error().message();
  EXPECT_EQ(*retried, 2U);
  got = subscriber->try_receive_n(batch, 8);
  ASSERT_TRUE(got);
  ASSERT_EQ(*got, 3U);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_TRUE(check_message(batch.bytes(i), 2 + i));
}

TEST(Batch, AWaitEndsAtTheCallersDeadlineWhenThatComesFirst) {
  const std::string name = unique_channel("batch-until");
  // A timeout that a broken deadline always waits out and no loaded machine reaches otherwise.
  auto publisher = zc::Publisher::create(
      name, {.chunk_size = 128, .chunk_count = 8, .queue_depth = 4, .timeout = 60s});
  ASSERT_TRUE(publisher);
  auto subscriber = connect_in_process(*publisher, name);  // never reads
  ASSERT_TRUE(subscriber);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(publish_message(*publisher));

  std::array<zc::ChunkLoan, 4> loans;
  auto loaned = publisher->loan_n(loans);
  ASSERT_TRUE(loaned);
  ASSERT_EQ(*loaned, 4U);
  std::array<std::size_t, 2> lengths{};
  for (std::size_t i = 0; i < 2; ++i) lengths[i] = write_message(loans[i].bytes(), 4 + i);
  const auto start = std::chrono::steady_clock::now();
  auto sent = publisher->publish_n(std::span(loans).first(2), lengths, start + 20ms);
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code(), zc::Errc::timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 30s) << "waited for the channel's timeout";

  std::array<zc::ChunkLoan, 1> more;
  const auto again = std::chrono::steady_clock::now();
  auto lent = publisher->loan_n(more, again + 20ms);  // all 8 chunks are out
  ASSERT_FALSE(lent);
  EXPECT_EQ(lent.error().code(), zc::Errc::timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - again, 30s) << "waited for the channel's timeout";
}

TEST(Batch, PublishNRefusesMoreMessagesThanTheQueueHolds) {
  const std::string name = unique_channel("batch-deep");
  auto publisher =
      zc::Publisher::create(name, {.chunk_size = 64, .chunk_count = 16, .queue_depth = 4});
  ASSERT_TRUE(publisher);
  std::array<zc::ChunkLoan, 5> loans;
  auto loaned = publisher->loan_n(loans);
  ASSERT_TRUE(loaned);
  ASSERT_EQ(*loaned, 5U);
  std::array<std::size_t, 5> lengths{};
  auto sent = publisher->publish_n(loans, lengths);
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code(), zc::Errc::invalid_argument);
  auto empty = publisher->publish_n({}, {});
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code(), zc::Errc::invalid_argument);
}

// Two threads, batches of every size from 1 to 8 on both sides against single messages, under
// both back-pressure modes: what ThreadSanitizer runs to check the batch path's ordering.
void stress(zc::Backpressure backpressure) {
  const std::string name = unique_channel("batch-stress");
  constexpr std::size_t kChunks = 32;
  auto publisher = zc::Publisher::create(name, {.chunk_size = 256,
                                                .chunk_count = kChunks,
                                                .queue_depth = 8,
                                                .backpressure = backpressure,
                                                .timeout = 10s});
  ASSERT_TRUE(publisher);
  auto subscriber = connect_in_process(*publisher, name);
  ASSERT_TRUE(subscriber);
  const std::size_t messages = scaled(200000);
  std::size_t received = 0;
  bool ordered_and_whole = true;
  std::thread reader([&] {
    zc::SampleBatch batch;
    std::optional<std::uint64_t> last;
    auto check = [&](std::uint64_t sequence, std::span<const std::byte> bytes) {
      const bool in_order = backpressure == zc::Backpressure::block
                                ? sequence == (last ? *last + 1 : 0)
                                : !last || sequence > *last;
      if (!in_order || !check_message(bytes, sequence)) ordered_and_whole = false;
      last = sequence;
      ++received;
    };
    for (std::size_t round = 0;; ++round) {
      if (round % 3 == 0) {
        auto sample = subscriber->receive(5s);
        if (!sample) return;
        check(sample->sequence(), sample->bytes());
        continue;
      }
      auto got = subscriber->receive_n(batch, 1 + round % 8, 5s);
      if (!got) return;
      for (std::size_t i = 0; i < batch.size(); ++i) check(batch.sequence(i), batch.bytes(i));
    }
  });
  for (std::size_t sent = 0, round = 0; sent < messages; ++round) {
    if (round % 4 == 0) {
      ASSERT_TRUE(publish_message(*publisher));
      ++sent;
      continue;
    }
    auto batch = publish_batch(*publisher, std::min<std::size_t>(1 + round % 8, messages - sent));
    ASSERT_TRUE(batch) << batch.error().message();
    sent += *batch;
  }
  publisher->close();
  reader.join();
  EXPECT_TRUE(ordered_and_whole);
  EXPECT_EQ(received + subscriber->dropped(), messages) << "each message received or dropped";
  if (backpressure == zc::Backpressure::block) {
    EXPECT_EQ(subscriber->dropped(), 0U);
  }
  publisher->service();
  EXPECT_EQ(publisher->pool().stats().free, kChunks);
  EXPECT_EQ(publisher->stats().rejected_returns, 0U);
}

TEST(Batch, ThreadsStreamingInBatchesLoseNothingUnderBlock) {
  stress(zc::Backpressure::block);
}

TEST(Batch, ThreadsStreamingInBatchesUnderDropOldestCountEveryMessageOnce) {
  stress(zc::Backpressure::drop_oldest);
}

// Fewer queued than asked: receive_n() takes what is there, moves tail past exactly those, and
// leaves the next ones for the next call (a take that ran past the filled slots would return
// stale descriptors; one that stopped at the first would leave messages waiting).
TEST(Batch, ReceiveNTakesWhatIsQueuedWhenFewerThanAskedAreReady) {
  const std::string name = unique_channel("batch-fewer");
  auto publisher =
      zc::Publisher::create(name, {.chunk_size = 256, .chunk_count = 32, .queue_depth = 16});
  ASSERT_TRUE(publisher) << publisher.error().message();
  auto subscriber = connect_in_process(*publisher, name);
  ASSERT_TRUE(subscriber) << subscriber.error().message();
  zc::SampleBatch batch;
  std::uint64_t next = 0;
  for (std::size_t round = 1; round <= 12; ++round) {
    const std::size_t ready = 1 + round % 5;
    auto sent = publish_batch(*publisher, ready);
    ASSERT_TRUE(sent) << sent.error().message();
    auto got = subscriber->receive_n(batch, 8, 1s);
    ASSERT_TRUE(got) << got.error().message();
    ASSERT_EQ(*got, ready) << "round " << round;
    for (std::size_t i = 0; i < batch.size(); ++i, ++next) {
      EXPECT_EQ(batch.sequence(i), next);
      EXPECT_TRUE(check_message(batch.bytes(i), next));
    }
    auto none = subscriber->try_receive_n(batch, 8);
    ASSERT_TRUE(none);
    EXPECT_EQ(*none, 0U) << "round " << round << ": nothing more was published";
  }
  publisher->service();
  EXPECT_EQ(publisher->pool().stats().free, 32U);
  EXPECT_EQ(publisher->stats().rejected_returns, 0U);
}

// drop_oldest against a subscriber that holds a batch: the publisher laps the queue twice while
// the batch is held. It may take back queued entries, never the ones the batch took, so their
// bytes stay whole; what it dropped is counted on both sides, and every chunk comes back.
TEST(Batch, DropOldestNeverTakesBackWhatABatchHolds) {
  const std::string name = unique_channel("batch-drop");
  constexpr std::size_t kChunks = 24;
  auto publisher = zc::Publisher::create(name, {.chunk_size = 256,
                                                .chunk_count = kChunks,
                                                .queue_depth = 8,
                                                .backpressure = zc::Backpressure::drop_oldest});
  ASSERT_TRUE(publisher) << publisher.error().message();
  auto subscriber = connect_in_process(*publisher, name);
  ASSERT_TRUE(subscriber) << subscriber.error().message();
  for (std::size_t i = 0; i < 12; ++i) ASSERT_TRUE(publish_message(*publisher));
  zc::SampleBatch held;
  auto got = subscriber->receive_n(held, 6, 1s);
  ASSERT_TRUE(got) << got.error().message();
  ASSERT_EQ(*got, 6U);
  EXPECT_EQ(held.sequence(0), 4U) << "the four oldest were dropped for the last four";
  for (std::size_t i = 0; i < 20; ++i) ASSERT_TRUE(publish_message(*publisher));
  for (std::size_t i = 0; i < held.size(); ++i) {
    EXPECT_EQ(held.sequence(i), 4 + i);
    EXPECT_TRUE(check_message(held.bytes(i), 4 + i)) << "message " << 4 + i << " was overwritten";
  }
  zc::SampleBatch rest;
  auto later = subscriber->receive_n(rest, 16, 1s);
  ASSERT_TRUE(later) << later.error().message();
  ASSERT_EQ(*later, 8U);
  for (std::size_t i = 0; i < rest.size(); ++i) {
    EXPECT_EQ(rest.sequence(i), 24 + i);
    EXPECT_TRUE(check_message(rest.bytes(i), 24 + i));
  }
  EXPECT_EQ(subscriber->dropped(), 32U - 6U - 8U);
  EXPECT_EQ(publisher->stats().dropped, 32U - 6U - 8U);
  held.reset();
  rest.reset();
  publisher->service();
  EXPECT_EQ(publisher->pool().stats().free, kChunks);
  EXPECT_EQ(publisher->stats().rejected_returns, 0U);
}

}  // namespace

// Subscriber processes that keep every sample they receive and die (SIGKILL, by their own hand)
// once they hold most of the pool, while the publisher loans runs: its loan_n waits for chunks
// and takes runs out of what the death gives back. Every chunk is counted once: the live
// subscriber sees every message whole, and at the end the pool holds all its chunks again.
TEST(Batch, RunsLoanedWhileDeadSubscribersChunksAreReclaimedLoseAndDoubleNothing) {
  const std::string name = unique_channel("runreclaim");
  constexpr std::size_t kChunks = 24;
  constexpr std::size_t kHoard = 14;
  auto publisher = zc::Publisher::create(
      name, {.chunk_size = 512, .chunk_count = kChunks, .queue_depth = 8, .timeout = 30000ms});
  ASSERT_TRUE(publisher) << publisher.error().message();
  const pid_t live = spawn([&] { return subscribe_and_check(name); });
  ASSERT_TRUE(publisher->wait_for_subscribers(1, 10s));
  const std::size_t deaths = zc::test::kSanitized ? 10 : 60;
  for (std::size_t round = 0; round < deaths; ++round) {
    const pid_t hoarder = spawn([&] {
      auto subscriber = zc::Subscriber::connect(name, 10s);
      if (!subscriber) return 10;
      std::vector<zc::Sample> kept;
      while (kept.size() < kHoard) {
        auto sample = subscriber->receive(10s);
        if (!sample) return 11;
        kept.push_back(std::move(*sample));
      }
      ::raise(SIGKILL);
      return 12;
    });
    ASSERT_TRUE(publisher->wait_for_subscribers(2, 10s));
    // Runs until the hoarder has died with its chunks and they have come back: it needs
    // kHoard messages, after which the pool runs dry and loan_n waits for the reclaim.
    std::size_t sent = 0;
    while (publisher->stats().subscribers == 2 || sent < kHoard) {
      auto batch = publish_batch(*publisher, 1 + (round + sent) % 8);
      ASSERT_TRUE(batch) << batch.error().message() << " in round " << round;
      sent += *batch;
    }
    EXPECT_EQ(reap(hoarder), 128 + SIGKILL) << "round " << round;
  }
  publisher->close();
  EXPECT_EQ(reap(live), 0) << "the live subscriber saw a torn, lost or reordered message";
  ASSERT_TRUE(serve_until(
      *publisher, [&] { return publisher->stats().subscribers == 0; }, 10000ms));
  EXPECT_EQ(publisher->pool().stats().free, kChunks) << "a chunk leaked or came back twice";
  EXPECT_EQ(publisher->pool().stats().rejected_returns, 0U);
  EXPECT_EQ(publisher->stats().rejected_returns, 0U);
  for (std::uint32_t chunk = 0; chunk < kChunks; ++chunk) EXPECT_EQ(publisher->holders(chunk), 0U);
}
