#include "zcopy/ring/spsc_ring.hpp"

#include <gtest/gtest.h>

#include <numeric>
#include <string>
#include <vector>

#include "zcopy/mem/region.hpp"

namespace zc {
namespace {

// Counts constructions and destructions, so a test can prove the ring neither leaks nor
// double-destroys what it holds.
struct Counted {
  static inline int live = 0;
  static inline int constructed = 0;

  explicit Counted(int v = 0) : value(v) { ++live, ++constructed; }
  Counted(const Counted& other) : value(other.value) { ++live, ++constructed; }
  Counted(Counted&& other) noexcept : value(other.value) { ++live, ++constructed; }
  Counted& operator=(const Counted&) = default;
  Counted& operator=(Counted&&) noexcept = default;
  ~Counted() { --live; }

  int value;
};

TEST(SpscRing, RejectsCapacitiesThatAreNotPowersOfTwo) {
  for (std::size_t bad : {std::size_t{0}, std::size_t{1}, std::size_t{3}, std::size_t{1000}}) {
    auto ring = SpscRing<int>::create(bad);
    ASSERT_FALSE(ring.has_value()) << bad;
    EXPECT_EQ(ring.error().code(), Errc::invalid_argument);
  }
}

TEST(SpscRing, DeliversInOrderAndReportsFullAndEmpty) {
  auto ring = SpscRing<int>::create(4);
  ASSERT_TRUE(ring.has_value()) << ring.error().message();
  EXPECT_EQ(ring->front(), nullptr);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(ring->try_push(i));
  EXPECT_FALSE(ring->try_push(99)) << "a full ring must refuse";
  EXPECT_EQ(ring->size(), 4U);
  for (int i = 0; i < 4; ++i) {
    int out = -1;
    ASSERT_TRUE(ring->try_pop(out));
    EXPECT_EQ(out, i);
  }
  int out = -1;
  EXPECT_FALSE(ring->try_pop(out));
  EXPECT_TRUE(ring->empty());
}

TEST(SpscRing, WrapsAroundManyTimes) {
  auto ring = SpscRing<std::uint64_t>::create(8);
  ASSERT_TRUE(ring.has_value());
  std::uint64_t next_in = 0;
  std::uint64_t next_out = 0;
  for (int round = 0; round < 1000; ++round) {
    while (ring->try_push(next_in)) ++next_in;
    for (int k = 0; k < 5; ++k) {
      std::uint64_t out = 0;
      ASSERT_TRUE(ring->try_pop(out));
      ASSERT_EQ(out, next_out++);
    }
  }
  EXPECT_GT(next_in, 4000U);
}

TEST(SpscRing, ConstructsAndDestroysEachElementExactlyOnce) {
  Counted::live = 0;
  Counted::constructed = 0;
  {
    auto ring = SpscRing<Counted>::create(16);
    ASSERT_TRUE(ring.has_value());
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(ring->try_emplace(i));
    EXPECT_EQ(Counted::live, 10);
    Counted out;
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(ring->try_pop(out));
      EXPECT_EQ(out.value, i);
    }
    EXPECT_EQ(Counted::live, 7);  // six queued and `out`
    ring->pop();
    EXPECT_EQ(Counted::live, 6);
  }
  // The ring's destructor destroyed the five still queued.
  EXPECT_EQ(Counted::live, 0);
  // Ten emplaced and `out`; try_pop move-assigns into `out` rather than constructing.
  EXPECT_EQ(Counted::constructed, 10 + 1);
}

TEST(SpscRing, BatchOperationsMoveAsManyAsFit) {
  auto ring = SpscRing<int>::create(8);
  ASSERT_TRUE(ring.has_value());
  std::vector<int> in(12);
  std::iota(in.begin(), in.end(), 0);
  EXPECT_EQ(ring->try_push_n(in), 8U);
  std::vector<int> out(5);
  EXPECT_EQ(ring->try_pop_n(out), 5U);
  EXPECT_EQ(out, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(ring->try_push_n(std::span<const int>(in).subspan(8)), 4U);
  std::vector<int> rest(10);
  EXPECT_EQ(ring->try_pop_n(rest), 7U);
  EXPECT_EQ(std::vector<int>(rest.begin(), rest.begin() + 7),
            (std::vector<int>{5, 6, 7, 8, 9, 10, 11}));
}

TEST(SpscRing, ReserveAndReadableStopAtTheWrap) {
  auto ring = SpscRing<int>::create(8);
  ASSERT_TRUE(ring.has_value());
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(ring->try_push(i));
  std::vector<int> drain(6);
  ASSERT_EQ(ring->try_pop_n(drain), 6U);
  // head = tail = 6: two slots before the wrap, then six after it.
  std::span<int> first = ring->reserve(8);
  ASSERT_EQ(first.size(), 2U);
  first[0] = 100;
  first[1] = 101;
  ring->commit(2);
  std::span<int> second = ring->reserve(8);
  ASSERT_EQ(second.size(), 6U);
  for (std::size_t i = 0; i < 6; ++i) second[i] = 102 + static_cast<int>(i);
  ring->commit(6);
  EXPECT_TRUE(ring->reserve(1).empty()) << "full";

  std::span<int> a = ring->readable(8);
  ASSERT_EQ(a.size(), 2U);
  EXPECT_EQ(a[0], 100);
  ring->consume(2);
  std::span<int> b = ring->readable(8);
  ASSERT_EQ(b.size(), 6U);
  EXPECT_EQ(b[5], 107);
  ring->consume(6);
  EXPECT_TRUE(ring->readable(1).empty());
}

TEST(SpscRing, AttachSeesTheSameRingInSharedMemory) {
  auto region = Region::create_shared(SpscRing<std::uint64_t>::bytes_for(64));
  ASSERT_TRUE(region.has_value()) << region.error().message();
  auto producer = SpscRing<std::uint64_t>::create_in(region->bytes(), 64);
  ASSERT_TRUE(producer.has_value()) << producer.error().message();
  auto consumer = SpscRing<std::uint64_t>::attach(region->bytes());
  ASSERT_TRUE(consumer.has_value()) << consumer.error().message();
  ASSERT_TRUE(producer->try_push(7));
  std::uint64_t out = 0;
  ASSERT_TRUE(consumer->try_pop(out));
  EXPECT_EQ(out, 7U);
}

TEST(SpscRing, AttachRejectsCorruptHeadersWithTheReason) {
  auto region = Region::create_shared(SpscRing<std::uint64_t>::bytes_for(64));
  ASSERT_TRUE(region.has_value());
  ASSERT_TRUE(SpscRing<std::uint64_t>::create_in(region->bytes(), 64).has_value());
  auto* header = reinterpret_cast<SpscRingHeader*>(region->data());

  auto expect_corrupt = [&](const char* fragment) {
    auto ring = SpscRing<std::uint64_t>::attach(region->bytes());
    ASSERT_FALSE(ring.has_value()) << fragment;
    EXPECT_EQ(ring.error().code(), Errc::corrupt);
    EXPECT_NE(ring.error().message().find(fragment), std::string::npos) << ring.error().message();
  };

  header->magic ^= 1;
  expect_corrupt("bad magic");
  header->magic ^= 1;
  header->capacity = 48;
  expect_corrupt("not a power of two");
  header->capacity = 1 << 20;
  expect_corrupt("bytes, memory has");
  header->capacity = 64;
  header->head.store(1000);
  expect_corrupt("more than the capacity apart");
  header->head.store(0);
  EXPECT_FALSE(SpscRing<std::uint32_t>::attach(region->bytes()).has_value()) << "element size";
  EXPECT_FALSE(SpscRing<std::uint64_t>::attach(region->bytes().first(100)).has_value());
  EXPECT_TRUE(SpscRing<std::uint64_t>::attach(region->bytes()).has_value());
}

TEST(SpscRing, AHostileHeadStopsTheConsumerInsteadOfReadingOutOfBounds) {
  auto region = Region::create_shared(SpscRing<std::uint64_t>::bytes_for(16));
  ASSERT_TRUE(region.has_value());
  auto consumer = SpscRing<std::uint64_t>::create_in(region->bytes(), 16);
  ASSERT_TRUE(consumer.has_value());
  auto* header = reinterpret_cast<SpscRingHeader*>(region->data());
  header->head.store(1'000'000);  // what a corrupt or malicious producer could write
  EXPECT_EQ(consumer->front(), nullptr);
  EXPECT_TRUE(consumer->consumer_faulted());
  header->head.store(1);  // even if it looks sane again, the consumer stays stopped
  EXPECT_EQ(consumer->front(), nullptr);
}

TEST(SpscRing, AHostileTailStopsTheProducerForGood) {
  auto region = Region::create_shared(SpscRing<std::uint64_t>::bytes_for(16));
  ASSERT_TRUE(region.has_value());
  auto producer = SpscRing<std::uint64_t>::create_in(region->bytes(), 16);
  ASSERT_TRUE(producer.has_value());
  for (std::uint64_t i = 0; i < 16; ++i) ASSERT_TRUE(producer->try_push(i));
  auto* header = reinterpret_cast<SpscRingHeader*>(region->data());
  header->tail.store(1'000'000);  // ahead of head: what a corrupt or malicious consumer could write
  EXPECT_FALSE(producer->try_push(16));
  EXPECT_TRUE(producer->producer_faulted());
  header->tail.store(16);  // the ring looks empty and sane again, but the producer stays stopped
  EXPECT_FALSE(producer->try_push(16));
  EXPECT_TRUE(producer->reserve(4).empty());
  const std::uint64_t batch[2] = {1, 2};
  EXPECT_EQ(producer->try_push_n(batch), 0U);
}

TEST(SpscRing, AFaultedConsumerReadsNothingThroughAnyConsumerCall) {
  auto region = Region::create_shared(SpscRing<std::uint64_t>::bytes_for(16));
  ASSERT_TRUE(region.has_value());
  auto consumer = SpscRing<std::uint64_t>::create_in(region->bytes(), 16);
  ASSERT_TRUE(consumer.has_value());
  auto* header = reinterpret_cast<SpscRingHeader*>(region->data());
  header->head.store(17);  // one more than the capacity
  EXPECT_TRUE(consumer->readable(4).empty());
  EXPECT_TRUE(consumer->consumer_faulted());
  header->head.store(4);
  std::uint64_t out[4] = {};
  EXPECT_EQ(consumer->try_pop_n(out), 0U);
  std::uint64_t one = 0;
  EXPECT_FALSE(consumer->try_pop(one));
  EXPECT_EQ(consumer->front(), nullptr);
}

}  // namespace
}  // namespace zc
