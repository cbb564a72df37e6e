// Two threads, then two processes, hammer one ring and check every element arrives once, in
// order, intact. The threaded test is the one ThreadSanitizer checks in CI.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <thread>

#include "support/child_process.hpp"
#include "support/sanitizer.hpp"
#include "zcopy/mem/region.hpp"
#include "zcopy/ring/spsc_ring.hpp"

namespace zc {
namespace {

// A payload whose last word is a checksum of the others: a torn or stale slot cannot pass.
struct Message {
  std::uint64_t sequence;
  std::uint64_t words[6];
  std::uint64_t checksum;

  static Message make(std::uint64_t sequence) {
    Message m{};
    m.sequence = sequence;
    std::uint64_t sum = sequence * 0x9e3779b97f4a7c15ULL;
    for (std::uint64_t i = 0; i < 6; ++i) {
      m.words[i] = (sequence + 1) * (i + 3);
      sum ^= m.words[i] + (sum << 6) + (sum >> 2);
    }
    m.checksum = sum;
    return m;
  }
  bool intact() const {
    return make(sequence).checksum == checksum && make(sequence).words[5] == words[5];
  }
};

TEST(SpscRingStress, TwoThreadsDeliverEveryElementOnceInOrder) {
  const std::uint64_t count = test::scaled(2'000'000);
  auto ring = SpscRing<Message>::create(256);
  ASSERT_TRUE(ring.has_value());

  std::thread producer([&] {
    std::uint64_t next = 0;
    Message batch[8];
    while (next < count) {
      // Alternate single pushes and batches so both publish paths race with the consumer.
      if (next % 3 == 0) {
        if (ring->try_push(Message::make(next))) ++next;
        continue;
      }
      std::size_t n = 0;
      for (; n < 8 && next + n < count; ++n) batch[n] = Message::make(next + n);
      next += ring->try_push_n(std::span<const Message>(batch, n));
    }
  });

  std::uint64_t expected = 0;
  std::uint64_t torn = 0;
  std::uint64_t out_of_order = 0;
  Message out[16];
  while (expected < count) {
    const std::size_t n = ring->try_pop_n(out);
    for (std::size_t i = 0; i < n; ++i) {
      if (!out[i].intact()) ++torn;
      if (out[i].sequence != expected) ++out_of_order;
      ++expected;
    }
  }
  producer.join();
  EXPECT_EQ(torn, 0U);
  EXPECT_EQ(out_of_order, 0U);
  EXPECT_TRUE(ring->empty());
  EXPECT_FALSE(ring->producer_faulted());
  EXPECT_FALSE(ring->consumer_faulted());
}

TEST(SpscRingStress, ZeroCopyReserveAndReadableAcrossThreads) {
  const std::uint64_t count = test::scaled(1'000'000);
  auto ring = SpscRing<std::uint64_t>::create(128);
  ASSERT_TRUE(ring.has_value());
  std::thread producer([&] {
    std::uint64_t next = 0;
    while (next < count) {
      std::span<std::uint64_t> slots =
          ring->reserve(static_cast<std::size_t>(std::min<std::uint64_t>(32, count - next)));
      for (auto& slot : slots) slot = next++;
      ring->commit(slots.size());
    }
  });
  std::uint64_t expected = 0;
  std::uint64_t wrong = 0;
  while (expected < count) {
    std::span<std::uint64_t> ready = ring->readable(64);
    for (const std::uint64_t value : ready) wrong += value != expected++ ? 1U : 0U;
    ring->consume(ready.size());
  }
  producer.join();
  EXPECT_EQ(wrong, 0U);
}

TEST(SpscRingStress, TwoProcessesShareARingWithIntactPayloads) {
  const std::uint64_t count = test::scaled(1'000'000);
  auto region = Region::create_shared(SpscRing<Message>::bytes_for(512));
  ASSERT_TRUE(region.has_value()) << region.error().message();
  auto consumer = SpscRing<Message>::create_in(region->bytes(), 512);
  ASSERT_TRUE(consumer.has_value());

  const pid_t child = test::spawn([&] {
    // The producer process attaches by validating the header, as an unrelated process would.
    auto producer = SpscRing<Message>::attach(region->bytes());
    if (!producer) return 2;
    for (std::uint64_t next = 0; next < count;) {
      if (producer->try_push(Message::make(next))) ++next;
    }
    return 0;
  });
  ASSERT_GE(child, 0);

  std::uint64_t expected = 0;
  std::uint64_t bad = 0;
  while (expected < count) {
    Message* m = consumer->front();
    if (m == nullptr) continue;
    if (!m->intact() || m->sequence != expected) ++bad;
    consumer->pop();
    ++expected;
  }
  EXPECT_EQ(test::reap(child), 0) << "producer process failed";
  EXPECT_EQ(bad, 0U);
}

}  // namespace
}  // namespace zc
