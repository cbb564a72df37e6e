// BufferPool: loaning to exhaustion, returns across processes, bogus returns, header validation.
#include "zcopy/mem/buffer_pool.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "mem/pool_header.hpp"
#include "support/child_process.hpp"
#include "zcopy/core/capabilities.hpp"
#include "zcopy/core/units.hpp"

namespace {

// Fills a chunk with a byte derived from its index, so a reader can tell whose data it sees.
std::byte mark_for(std::uint32_t index) {
  return static_cast<std::byte>(0x40 + index % 64);
}

bool filled_with(std::span<const std::byte> bytes, std::byte value) {
  for (std::byte b : bytes) {
    if (b != value) return false;
  }
  return true;
}

std::string message_of(const zc::Result<zc::BufferPool>& pool) {
  return pool ? std::string("(attached)") : pool.error().message();
}

}  // namespace

TEST(BufferPool, LoansEveryChunkOnceThenReportsExhaustion) {
  auto pool = zc::BufferPool::create(1000, 8);
  ASSERT_TRUE(pool) << pool.error().message();
  std::vector<zc::ChunkLoan> loans;
  std::set<std::uint32_t> indices;
  for (int i = 0; i < 8; ++i) {
    auto loan = pool->loan();
    ASSERT_TRUE(loan) << loan.error().message();
    EXPECT_EQ(loan->bytes().size(), 1000U);
    indices.insert(loan->index());
    loans.push_back(std::move(*loan));
  }
  EXPECT_EQ(indices.size(), 8U) << "a chunk was loaned twice";
  auto none = pool->loan();
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), zc::Errc::exhausted);

  zc::PoolStats stats = pool->stats();
  EXPECT_EQ(stats.chunk_count, 8U);
  EXPECT_EQ(stats.chunk_size, 1000U);
  EXPECT_EQ(stats.loaned, 8U);
  EXPECT_EQ(stats.free, 0U);
  EXPECT_EQ(stats.high_water, 8U);

  loans.resize(5);  // three loans go out of scope and return their chunks
  stats = pool->stats();
  EXPECT_EQ(stats.loaned, 5U);
  EXPECT_EQ(stats.free, 3U);
  EXPECT_EQ(stats.high_water, 8U) << "the high-water mark never goes down";
  EXPECT_TRUE(pool->loan());
}

TEST(BufferPool, HugePagesWhenShmemAllowsThemOtherwiseTheReason) {
  auto pool = zc::BufferPool::create(4096, 16, {.huge_pages = true});
  if (zc::probe(zc::Capability::shmem_huge_pages).available) {
    ASSERT_TRUE(pool) << pool.error().message();
    EXPECT_TRUE(pool->region().huge_pages());
    EXPECT_EQ(pool->region().size() % zc::Region::kHugePageSize, 0u);
  } else {
    ASSERT_FALSE(pool);
    EXPECT_EQ(pool.error().code(), zc::Errc::capability_missing);
    EXPECT_NE(pool.error().message().find("shmem"), std::string::npos) << pool.error().message();
  }
}

TEST(BufferPool, HighWaterMarkRecordsThePeakNotTheTotal) {
  auto pool = zc::BufferPool::create(64, 16);
  ASSERT_TRUE(pool) << pool.error().message();
  for (int round = 0; round < 10; ++round) {
    auto a = pool->loan();
    auto b = pool->loan();
    auto c = pool->loan();
    ASSERT_TRUE(a && b && c);
  }
  EXPECT_EQ(pool->stats().high_water, 3U);
  EXPECT_EQ(pool->stats().loaned, 0U);
}

TEST(BufferPool, ChunksAreAlignedDisjointAndInsideTheRegion) {
  for (std::size_t chunk_size : {1UL, 100UL, 4096UL, 9000UL}) {
    auto pool = zc::BufferPool::create(chunk_size, 5);
    ASSERT_TRUE(pool) << pool.error().message();
    const std::size_t alignment = chunk_size >= 4096 ? 4096 : 64;
    const std::byte* start = pool->region().data();
    const std::byte* end = start + pool->region().size();
    const std::byte* previous_end = nullptr;
    for (std::uint32_t i = 0; i < 5; ++i) {
      auto chunk = pool->chunk(i);
      ASSERT_TRUE(chunk) << chunk.error().message();
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(chunk->data()) % alignment, 0U)
          << chunk_size << "-byte chunk " << i;
      EXPECT_EQ(chunk->data(), start + pool->geometry().offset_of(i));
      EXPECT_LE(chunk->data() + chunk->size(), end);
      if (previous_end != nullptr) {
        EXPECT_GE(chunk->data(), previous_end);
      }
      previous_end = chunk->data() + chunk->size();
    }
  }
}

TEST(BufferPool, ContentsWrittenBeforeGiveBackReachTheNextLoaner) {
  auto pool = zc::BufferPool::create(256, 1);
  ASSERT_TRUE(pool) << pool.error().message();
  {
    auto loan = pool->loan();
    ASSERT_TRUE(loan) << loan.error().message();
    std::memset(loan->bytes().data(), 0x5a, loan->bytes().size());
  }
  auto again = pool->loan();
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_TRUE(filled_with(again->bytes(), std::byte{0x5a}));
}

TEST(BufferPool, ReleasedLoanStaysOutUntilGivenBackByIndex) {
  auto pool = zc::BufferPool::create(128, 2);
  ASSERT_TRUE(pool) << pool.error().message();
  std::uint32_t index = 0;
  {
    auto loan = pool->loan();
    ASSERT_TRUE(loan) << loan.error().message();
    index = loan->release();
    EXPECT_FALSE(loan->valid());
  }
  EXPECT_EQ(pool->stats().loaned, 1U) << "a released loan must not return its chunk";
  ASSERT_TRUE(pool->give_back(index));
  EXPECT_EQ(pool->stats().loaned, 0U);
}

// An exclusive pool (one caller at a time, plain stores instead of read-modify-writes) refuses
// the same returns and keeps the same counts.
TEST(BufferPool, BogusAndDoubleReturnsAreRejectedAndCounted) {
  for (const bool exclusive : {false, true}) {
    SCOPED_TRACE(exclusive ? "exclusive pool" : "shared pool");
    auto pool = zc::BufferPool::create(128, 4, {.exclusive = exclusive});
    ASSERT_TRUE(pool) << pool.error().message();

    auto out_of_range = pool->give_back(4);
    ASSERT_FALSE(out_of_range);
    EXPECT_EQ(out_of_range.error().code(), zc::Errc::rejected);
    EXPECT_NE(out_of_range.error().message().find("out of range"), std::string::npos);

    auto never_loaned = pool->give_back(2);
    ASSERT_FALSE(never_loaned);
    EXPECT_EQ(never_loaned.error().code(), zc::Errc::rejected);

    auto loan = pool->loan();
    ASSERT_TRUE(loan) << loan.error().message();
    const std::uint32_t index = loan->release();
    ASSERT_TRUE(pool->give_back(index));
    auto twice = pool->give_back(index);
    ASSERT_FALSE(twice);
    EXPECT_EQ(twice.error().code(), zc::Errc::rejected);
    EXPECT_NE(twice.error().message().find("not on loan"), std::string::npos);

    const zc::PoolStats stats = pool->stats();
    EXPECT_EQ(stats.rejected_returns, 3U);
    EXPECT_EQ(stats.loaned, 0U);
    // The refused returns did not corrupt the free list: exactly four distinct chunks come out.
    std::vector<zc::ChunkLoan> loans;
    std::set<std::uint32_t> indices;
    for (auto next = pool->loan(); next; next = pool->loan()) {
      indices.insert(next->index());
      loans.push_back(std::move(*next));
    }
    EXPECT_EQ(loans.size(), 4U);
    EXPECT_EQ(indices.size(), 4U);
    EXPECT_EQ(pool->stats().high_water, 4U);
  }
}

TEST(BufferPool, ChunkRefusesAnIndexOutOfRange) {
  auto pool = zc::BufferPool::create(128, 4);
  ASSERT_TRUE(pool) << pool.error().message();
  EXPECT_TRUE(pool->chunk(3));
  auto bad = pool->chunk(4);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), zc::Errc::rejected);
}

TEST(BufferPool, CreateRefusesImpossibleGeometry) {
  for (auto [size, count] : {std::pair<std::size_t, std::size_t>{0, 4},
                             {64, 0},
                             {(std::size_t{1} << 30) + 1, 1},
                             {64, std::size_t{0xffffffff}}}) {
    auto pool = zc::BufferPool::create(size, count);
    ASSERT_FALSE(pool) << size << " x " << count;
    EXPECT_EQ(pool.error().code(), zc::Errc::invalid_argument) << pool.error().message();
  }
}

TEST(BufferPool, MovingThePoolKeepsOutstandingLoansValid) {
  auto created = zc::BufferPool::create(64, 2);
  ASSERT_TRUE(created) << created.error().message();
  auto loan = created->loan();
  ASSERT_TRUE(loan) << loan.error().message();
  zc::BufferPool moved = std::move(*created);
  loan->bytes()[0] = std::byte{1};
  *loan = zc::ChunkLoan{};  // gives the chunk back through the moved pool's state
  EXPECT_EQ(moved.stats().loaned, 0U);
}

TEST(BufferPool, ExhaustionAndReturnsWorkAcrossTwoProcesses) {
  constexpr std::uint32_t kChunks = 6;
  auto pool = zc::BufferPool::create(4096, kChunks, {.name = "pool-test"});
  ASSERT_TRUE(pool) << pool.error().message();
  auto fd = pool->share();
  ASSERT_TRUE(fd) << fd.error().message();
  auto indices = zc::make_pipe();
  ASSERT_TRUE(indices) << indices.error().message();

  // The child attaches its own mapping, loans everything, writes each chunk in place and hands
  // the indices over; the chunks stay on loan after it exits.
  const int status = zc::test::run_in_child([&] {
    indices->read_end.reset();
    auto peer = zc::BufferPool::attach(std::move(*fd));
    if (!peer) return 2;
    for (std::uint32_t n = 0; n < kChunks; ++n) {
      auto loan = peer->loan();
      if (!loan) return 3;
      std::memset(loan->bytes().data(), static_cast<int>(mark_for(loan->index())), 4096);
      const std::uint32_t index = loan->release();
      if (::write(indices->write_end.get(), &index, sizeof index) != sizeof index) return 4;
    }
    auto none = peer->loan();
    if (none || none.error().code() != zc::Errc::exhausted) return 5;
    if (peer->stats().free != 0) return 6;
    return 0;
  });
  ASSERT_EQ(status, 0) << "child check " << status << " failed";
  indices->write_end.reset();

  zc::PoolStats stats = pool->stats();
  EXPECT_EQ(stats.loaned, kChunks);
  EXPECT_EQ(stats.free, 0U);
  EXPECT_EQ(stats.high_water, kChunks);
  auto mine = pool->loan();
  ASSERT_FALSE(mine);
  EXPECT_EQ(mine.error().code(), zc::Errc::exhausted);

  std::uint32_t index = 0;
  std::uint32_t received = 0;
  while (::read(indices->read_end.get(), &index, sizeof index) == sizeof index) {
    auto chunk = pool->chunk(index);
    ASSERT_TRUE(chunk) << chunk.error().message();
    EXPECT_TRUE(filled_with(*chunk, mark_for(index))) << "chunk " << index;
    auto returned = pool->give_back(index);
    EXPECT_TRUE(returned) << returned.error().message();
    ++received;
  }
  EXPECT_EQ(received, kChunks);
  stats = pool->stats();
  EXPECT_EQ(stats.loaned, 0U);
  EXPECT_EQ(stats.free, kChunks);
  EXPECT_EQ(stats.rejected_returns, 0U);
  EXPECT_TRUE(pool->loan());
}

TEST(BufferPool, ChildSeesTheParentsLoansAsExhaustion) {
  auto pool = zc::BufferPool::create(64, 2);
  ASSERT_TRUE(pool) << pool.error().message();
  auto a = pool->loan();
  auto b = pool->loan();
  ASSERT_TRUE(a && b);
  auto fd = pool->share();
  ASSERT_TRUE(fd) << fd.error().message();
  const int status = zc::test::run_in_child([&] {
    auto peer = zc::BufferPool::attach(std::move(*fd));
    if (!peer) return 2;
    auto none = peer->loan();
    if (none || none.error().code() != zc::Errc::exhausted) return 3;
    // A return from the other process is accepted like a local one...
    if (!peer->give_back(a->index())) return 4;
    // ...and a second one is refused there too.
    if (peer->give_back(a->index())) return 5;
    return 0;
  });
  EXPECT_EQ(status, 0) << "child check " << status << " failed";
  const std::uint32_t returned = a->release();  // the child gave it back for us
  EXPECT_EQ(pool->stats().loaned, 1U);
  EXPECT_EQ(pool->stats().rejected_returns, 1U);
  auto again = pool->loan();
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(again->index(), returned);
}

// Corrupt headers: a peer's pool whose header was damaged after creation.
class BufferPoolCorruptHeader : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pool = zc::BufferPool::create(4096, 4);
    ASSERT_TRUE(pool) << pool.error().message();
    auto fd = pool->share();
    ASSERT_TRUE(fd) << fd.error().message();
    auto raw = zc::Region::attach(std::move(*fd), zc::Access::read_write);
    ASSERT_TRUE(raw) << raw.error().message();
    pool_.emplace(std::move(*pool));
    raw_.emplace(std::move(*raw));
  }

  zc::pool_layout::PoolHeader* header() {
    return reinterpret_cast<zc::pool_layout::PoolHeader*>(raw_->data());
  }

  // Attaches the damaged pool and returns the error line (or "(attached)").
  std::string attach_error(zc::Errc expected = zc::Errc::corrupt) {
    auto fd = pool_->share();
    if (!fd) return fd.error().message();
    auto attached = zc::BufferPool::attach(std::move(*fd));
    if (!attached) {
      EXPECT_EQ(attached.error().code(), expected) << attached.error().message();
    }
    return message_of(attached);
  }

  std::optional<zc::BufferPool> pool_;
  std::optional<zc::Region> raw_;
};

TEST_F(BufferPoolCorruptHeader, IntactHeaderAttaches) {
  EXPECT_EQ(attach_error(), "(attached)");
}

TEST_F(BufferPoolCorruptHeader, BadMagicIsNamed) {
  header()->magic = 0x1122334455667788;
  EXPECT_NE(attach_error().find("pool header: bad magic 0x1122334455667788"), std::string::npos)
      << attach_error();
}

TEST_F(BufferPoolCorruptHeader, UnknownVersionIsNamed) {
  header()->layout_version = 7;
  EXPECT_NE(attach_error().find("layout version 7, this build reads version 1"), std::string::npos)
      << attach_error();
}

TEST_F(BufferPoolCorruptHeader, ImpossibleChunkSizeIsNamed) {
  header()->chunk_size = 0;
  EXPECT_NE(attach_error().find("chunk size 0 outside"), std::string::npos) << attach_error();
}

TEST_F(BufferPoolCorruptHeader, OffsetThatDisagreesWithTheSizesIsNamed) {
  header()->chunk_offset += 64;
  EXPECT_NE(attach_error().find("chunk area offset"), std::string::npos) << attach_error();
}

TEST_F(BufferPoolCorruptHeader, MoreChunksThanTheRegionHoldsIsNamed) {
  // Consistent offsets for 256 chunks, in a region sized for 4.
  const auto bigger = zc::pool_layout::compute_pool_geometry(4096, 256);
  ASSERT_TRUE(bigger);
  *header() = zc::pool_layout::make_header(*bigger);
  const std::string expected = "pool header: chunk area [" + std::to_string(bigger->chunk_offset) +
                               ", " + std::to_string(bigger->total_bytes) +
                               ") exceeds region size " + std::to_string(raw_->size());
  EXPECT_NE(attach_error().find(expected), std::string::npos) << attach_error();
}

TEST(BufferPoolHeader, TruncatedBytesAreCorrupt) {
  auto pool = zc::BufferPool::create(64, 4);
  ASSERT_TRUE(pool) << pool.error().message();
  const auto bytes = pool->region().bytes();
  EXPECT_TRUE(zc::validate_pool_header(bytes));

  auto short_header = zc::validate_pool_header(bytes.first(100));
  ASSERT_FALSE(short_header);
  EXPECT_EQ(short_header.error().code(), zc::Errc::corrupt);
  EXPECT_EQ(short_header.error().message(),
            "pool header: region of 100 bytes is smaller than the 128-byte header");

  const std::uint64_t total = pool->geometry().total_bytes;
  auto cut = zc::validate_pool_header(bytes.first(total - 1));
  ASSERT_FALSE(cut);
  EXPECT_NE(cut.error().message().find("exceeds region size " + std::to_string(total - 1)),
            std::string::npos)
      << cut.error().message();
}

TEST(BufferPoolHeader, AttachRefusesAnUnrelatedRegion) {
  auto region = zc::Region::create_shared(64 * zc::kKiB);
  ASSERT_TRUE(region) << region.error().message();
  auto fd = region->share(zc::Access::read_write);
  ASSERT_TRUE(fd) << fd.error().message();
  auto pool = zc::BufferPool::attach(std::move(*fd));
  ASSERT_FALSE(pool);
  EXPECT_EQ(pool.error().code(), zc::Errc::corrupt);
  EXPECT_NE(pool.error().message().find("not a zcopy buffer pool"), std::string::npos)
      << pool.error().message();
}
