// The ring views on plain memory, with a thread standing in for the kernel on the other side:
// entries cross in order and intact, the free count never exceeds the ring, and indices
// scribbled out of range are faults, never reads past the array. The stress test runs under
// ThreadSanitizer in CI, which checks the acquire/release pairs.
#include "xdp/xsk_ring.hpp"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <thread>
#include <vector>

namespace zc::xdp::detail {
namespace {

template <class Entry, std::uint32_t kSize>
struct FakeRing {
  alignas(64) std::uint32_t producer = 0;
  alignas(64) std::uint32_t consumer = 0;
  alignas(64) std::uint32_t flags = 0;
  std::array<Entry, kSize> entries{};

  RingMemory<Entry> memory() { return {&producer, &consumer, &flags, entries.data(), kSize}; }
};

TEST(XskRing, AProducerFillsTheRingAndNoFurther) {
  FakeRing<std::uint64_t, 8> ring;
  ProducerRing<std::uint64_t> producer(ring.memory());
  ASSERT_EQ(producer.free(100), 8u);
  for (std::uint32_t i = 0; i < 8; ++i) producer.slot(i) = i;
  producer.submit(8);
  EXPECT_EQ(ring.producer, 8u);
  EXPECT_EQ(producer.free(1), 0u);
  ring.consumer = 3;  // the other side read three
  EXPECT_EQ(producer.free(8), 3u);
  EXPECT_EQ(producer.outstanding(), 5u);
}

TEST(XskRing, AConsumerReadsWhatWasPublishedAndReleasesIt) {
  FakeRing<std::uint64_t, 8> ring;
  ConsumerRing<std::uint64_t> consumer(ring.memory());
  EXPECT_EQ(consumer.available(8), 0u);
  ring.entries[0] = 40;
  ring.entries[1] = 41;
  ring.producer = 2;
  ASSERT_EQ(consumer.available(8), 2u);
  EXPECT_EQ(consumer.slot(0), 40u);
  EXPECT_EQ(consumer.slot(1), 41u);
  consumer.release(2);
  EXPECT_EQ(ring.consumer, 2u);
  EXPECT_EQ(consumer.available(8), 0u);
}

TEST(XskRing, IndicesWrapAroundTheirThirtyTwoBits) {
  FakeRing<std::uint64_t, 4> ring;
  ring.producer = ring.consumer = 0xffff'fffeu;
  ProducerRing<std::uint64_t> producer(ring.memory());
  ConsumerRing<std::uint64_t> consumer(ring.memory());
  for (std::uint64_t round = 0; round < 3; ++round) {
    ASSERT_EQ(producer.free(4), 4u);
    for (std::uint32_t i = 0; i < 4; ++i) producer.slot(i) = round * 4 + i;
    producer.submit(4);
    ASSERT_EQ(consumer.available(4), 4u);
    for (std::uint32_t i = 0; i < 4; ++i) EXPECT_EQ(consumer.slot(i), round * 4 + i);
    consumer.release(4);
  }
  EXPECT_EQ(consumer.faults(), 0u);
}

TEST(XskRing, AProducerIndexFarAheadIsAFaultAndNothingIsRead) {
  FakeRing<std::uint64_t, 8> ring;
  ConsumerRing<std::uint64_t> consumer(ring.memory());
  ring.producer = 9;  // more than a ring ahead of our consumer index (0)
  EXPECT_EQ(consumer.available(100), 0u);
  EXPECT_EQ(consumer.faults(), 1u);
  ring.producer = 0xffff'ffffu;  // behind us
  EXPECT_EQ(consumer.available(100), 0u);
  EXPECT_EQ(consumer.faults(), 2u);
  ring.producer = 3;  // put right by the real producer
  EXPECT_EQ(consumer.available(100), 3u);
}

TEST(XskRing, AConsumerIndexThatClaimsTooMuchLeavesNoRoom) {
  FakeRing<std::uint64_t, 8> ring;
  ProducerRing<std::uint64_t> producer(ring.memory());
  producer.submit(2);
  ring.consumer = 100;  // more consumed than was ever produced
  EXPECT_EQ(producer.free(8), 0u);
}

TEST(XskRing, NeedWakeupIsTheKernelsFlag) {
  FakeRing<std::uint64_t, 8> ring;
  ProducerRing<std::uint64_t> producer(ring.memory());
  EXPECT_FALSE(producer.needs_wakeup());
  ring.flags = 1;  // XDP_RING_NEED_WAKEUP
  EXPECT_TRUE(producer.needs_wakeup());
}

// One thread produces sequence numbers in batches, another consumes them, through a small ring:
// each number arrives once and in order.
TEST(XskRing, TwoThreadsPassAMillionEntriesInOrder) {
  constexpr std::uint64_t kCount = 1'000'000;
  auto ring = std::make_unique<FakeRing<std::uint64_t, 64>>();
  std::thread producer_thread([&] {
    ProducerRing<std::uint64_t> producer(ring->memory());
    std::uint64_t next = 0;
    while (next < kCount) {
      const std::uint32_t n = producer.free(16);
      for (std::uint32_t i = 0; i < n && next < kCount; ++i) {
        producer.slot(i) = next++;
        if (i + 1 == n || next == kCount) producer.submit(i + 1);
      }
    }
  });
  ConsumerRing<std::uint64_t> consumer(ring->memory());
  std::uint64_t expected = 0;
  bool in_order = true;
  while (expected < kCount) {
    const std::uint32_t n = consumer.available(32);
    for (std::uint32_t i = 0; i < n; ++i) in_order &= consumer.slot(i) == expected++;
    if (n > 0) consumer.release(n);
  }
  producer_thread.join();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(consumer.faults(), 0u);
}

}  // namespace
}  // namespace zc::xdp::detail
