// BufferPool::loan_n and give_back_n: runs of chunks taken and returned in one move of the free
// list, checked against a model of the list, and under contention between processes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <deque>
#include <optional>
#include <random>
#include <set>
#include <vector>

#include "support/child_process.hpp"
#include "support/sanitizer.hpp"
#include "zcopy/mem/buffer_pool.hpp"

namespace {

std::vector<std::uint32_t> indices_of(std::span<const zc::ChunkLoan> loans) {
  std::vector<std::uint32_t> indices;
  for (const auto& loan : loans) indices.push_back(loan.index());
  return indices;
}

}  // namespace

TEST(BufferPoolRuns, ARunLongerThanTheFreeChunksTakesWhatIsFreeAndCountsIt) {
  auto pool = zc::BufferPool::create(64, 8, {.exclusive = true});
  ASSERT_TRUE(pool) << pool.error().message();
  std::vector<zc::ChunkLoan> singles;
  for (int i = 0; i < 5; ++i) {
    auto loan = pool->loan();
    ASSERT_TRUE(loan) << loan.error().message();
    singles.push_back(std::move(*loan));
  }
  std::vector<zc::ChunkLoan> run(8);
  auto got = pool->loan_n(run);
  ASSERT_TRUE(got) << got.error().message();
  ASSERT_EQ(*got, 3U);
  std::set<std::uint32_t> all;
  for (const auto& loan : singles) all.insert(loan.index());
  for (std::size_t k = 0; k < *got; ++k) {
    ASSERT_TRUE(run[k].valid());
    all.insert(run[k].index());
  }
  EXPECT_EQ(all.size(), 8U) << "a chunk was loaned twice";
  for (std::size_t k = *got; k < run.size(); ++k) EXPECT_FALSE(run[k].valid());
  EXPECT_EQ(pool->stats().loaned, 8U);
  EXPECT_EQ(pool->stats().high_water, 8U);

  std::vector<zc::ChunkLoan> none(4);
  got = pool->loan_n(none);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(*got, 0U);
  auto single = pool->loan();
  ASSERT_FALSE(single);
  EXPECT_EQ(single.error().code(), zc::Errc::exhausted);

  run.clear();
  singles.clear();
  EXPECT_EQ(pool->stats().loaned, 0U);
  EXPECT_EQ(pool->stats().free, 8U);
}

TEST(BufferPoolRuns, AReturnedRunGoesOnTopInOrderAndBogusReturnsInItAreRefused) {
  auto pool = zc::BufferPool::create(64, 6, {.exclusive = true});
  ASSERT_TRUE(pool) << pool.error().message();
  std::vector<zc::ChunkLoan> loans(6);
  ASSERT_EQ(pool->loan_n(loans).value_or(0), 6U);
  std::vector<std::uint32_t> held = indices_of(loans);
  for (auto& loan : loans) (void)loan.release();

  // held[2] twice, an index out of range, and three good ones around them.
  const std::vector<std::uint32_t> returned = {held[2], 99, held[4], held[2], held[0]};
  EXPECT_EQ(pool->give_back_n(returned), 3U);
  EXPECT_EQ(pool->stats().rejected_returns, 2U);
  EXPECT_EQ(pool->stats().loaned, 3U);

  std::vector<zc::ChunkLoan> again(6);
  ASSERT_EQ(pool->loan_n(again).value_or(0), 3U);
  EXPECT_EQ(indices_of(std::span(again).first(3)),
            (std::vector<std::uint32_t>{held[2], held[4], held[0]}));
}

// Runs of every length, returned as chains of every length, in a random order: what each run
// takes is exactly the top of a model stack, so a chain that loses its link to the chunks below
// it, or a run that stops at a chain's end or walks past the list's end, shows here.
TEST(BufferPoolRuns, RunsAcrossReturnedChainsAndTheListEndFollowTheFreeList) {
  constexpr std::uint32_t kChunks = 37;
  for (const bool exclusive : {true, false}) {
    auto pool = zc::BufferPool::create(64, kChunks, {.exclusive = exclusive});
    ASSERT_TRUE(pool) << pool.error().message();
    std::deque<std::uint32_t> model;  // front: the top of the free list
    for (std::uint32_t i = 0; i < kChunks; ++i) model.push_back(i);
    std::vector<std::uint32_t> held;
    std::mt19937 random(exclusive ? 7 : 8);
    for (int round = 0; round < 2000; ++round) {
      if (random() % 2 == 0) {
        std::vector<zc::ChunkLoan> run(random() % (kChunks + 5) + 1);
        auto got = pool->loan_n(run);
        ASSERT_TRUE(got) << got.error().message();
        ASSERT_EQ(*got, std::min(run.size(), model.size())) << "round " << round;
        for (std::size_t k = 0; k < *got; ++k) {
          ASSERT_EQ(run[k].index(), model.front()) << "round " << round << " loan " << k;
          model.pop_front();
          held.push_back(run[k].release());
        }
      } else if (!held.empty()) {
        std::shuffle(held.begin(), held.end(), random);
        const std::size_t n = random() % held.size() + 1;
        const std::vector<std::uint32_t> chain(held.end() - static_cast<std::ptrdiff_t>(n),
                                               held.end());
        held.resize(held.size() - n);
        ASSERT_EQ(pool->give_back_n(chain), n);
        model.insert(model.begin(), chain.begin(), chain.end());
      }
      ASSERT_EQ(pool->stats().free, model.size()) << "round " << round;
    }
    EXPECT_EQ(pool->stats().rejected_returns, 0U);
  }
}

// Processes sharing a pool loan runs and give them back as chains while the others do the same.
// Each writes its own byte into every chunk of a run and checks it before the return: a run that
// took chunks another process also holds (a stale walk of the list installed as its head) shows
// as a foreign byte; lost or duplicated chunks show in the final count.
TEST(BufferPoolRuns, ProcessesLoaningAndReturningRunsAtOnceNeverShareAChunk) {
  constexpr std::uint32_t kChunks = 24;
  constexpr std::size_t kSize = 256;
  auto pool = zc::BufferPool::create(kSize, kChunks);
  ASSERT_TRUE(pool) << pool.error().message();
  const auto run_time =
      zc::test::kSanitized ? std::chrono::milliseconds(300) : std::chrono::milliseconds(1000);
  std::vector<pid_t> children;
  for (int worker = 0; worker < 3; ++worker) {
    auto fd = pool->share();
    ASSERT_TRUE(fd) << fd.error().message();
    children.push_back(zc::test::spawn([&, worker] {
      auto mine = zc::BufferPool::attach(std::move(*fd));
      if (!mine) return 2;
      const auto mark = static_cast<std::byte>(0x10 + worker);
      std::mt19937 random(static_cast<unsigned>(worker));
      const auto end = std::chrono::steady_clock::now() + run_time;
      std::uint64_t round = 0;
      std::uint64_t runs = 0;
      while (round % 256 != 0 || std::chrono::steady_clock::now() < end) {
        ++round;
        std::vector<zc::ChunkLoan> run(random() % 9 + 1);
        auto got = mine->loan_n(run);
        if (!got) return 3;
        if (*got == 0) continue;
        ++runs;
        for (std::size_t k = 0; k < *got; ++k) {
          std::memset(run[k].bytes().data(), static_cast<int>(mark), kSize);
        }
        std::vector<std::uint32_t> chain;
        for (std::size_t k = 0; k < *got; ++k) {
          for (std::byte b : run[k].bytes()) {
            if (b != mark) return 4;  // another process wrote into a chunk we hold
          }
          chain.push_back(run[k].release());
        }
        if (mine->give_back_n(chain) != chain.size()) return 5;
      }
      return runs > 0 ? 0 : 6;
    }));
  }
  // 60 s: the work takes about a second; a free list broken into a cycle spins forever.
  for (pid_t child : children) {
    EXPECT_EQ(zc::test::reap_within(child, std::chrono::seconds(60)), std::optional<int>(0));
  }
  const zc::PoolStats stats = pool->stats();
  EXPECT_EQ(stats.loaned, 0U);
  EXPECT_EQ(stats.rejected_returns, 0U);
  std::vector<zc::ChunkLoan> all(kChunks + 1);
  auto got = pool->loan_n(all);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(*got, kChunks) << "chunks were lost or duplicated on the free list";
  const std::vector<std::uint32_t> indices = indices_of(std::span(all).first(*got));
  EXPECT_EQ(std::set<std::uint32_t>(indices.begin(), indices.end()).size(), *got);
}
