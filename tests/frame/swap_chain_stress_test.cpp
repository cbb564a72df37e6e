// SwapChain under load: a producer thread and a compositor thread flipping as fast as they can,
// the compositor checking every row of every frame it shows.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "support/sanitizer.hpp"
#include "zcopy/frame/frame_pattern.hpp"
#include "zcopy/frame/swap_chain.hpp"

namespace {

using namespace std::chrono_literals;

constexpr std::size_t kFlips = zc::test::scaled(1'000'000);

// Work that takes a while without sleeping, to make one side slower than the other.
void busy(unsigned rounds) {
  for (unsigned i = 0; i < rounds; ++i) {
    std::atomic_signal_fence(std::memory_order_seq_cst);
  }
}

struct Outcome {
  std::uint64_t flips = 0;
  std::uint64_t repeats = 0;
  std::uint64_t torn = 0;
  std::uint64_t out_of_order = 0;
  std::uint64_t producer_failures = 0;
  zc::SwapChainStats stats;
};

// Runs until the compositor has flipped kFlips times, as fast as it can (a tick with no period):
// a flip either shows a new frame or repeats the front. `producer_work` / `consumer_work` slow a
// side down.
Outcome run(zc::PresentMode mode, unsigned producer_work, unsigned consumer_work) {
  auto chain = zc::SwapChain::create(
      {.width = 32, .height = 16, .bytes_per_pixel = 4, .slot_count = 3, .mode = mode});
  EXPECT_TRUE(chain.has_value());
  const std::size_t row = chain->geometry().row_bytes;
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> failures{0};
  Outcome out;
  std::thread producer([&] {
    // MAILBOX never waits: acquire with no timeout at all must always succeed.
    const auto timeout = mode == zc::PresentMode::mailbox ? 0ns : std::chrono::nanoseconds(10s);
    for (std::uint64_t id = 1; !stop.load(std::memory_order_relaxed); ++id) {
      auto back = chain->acquire(timeout);
      if (!back) {
        ADD_FAILURE() << back.error().message();
        ++failures;
        break;
      }
      zc::render_frame_pattern(back->bytes, row, id);
      busy(producer_work);
      if (auto presented = chain->present(*back, id); !presented) {
        ADD_FAILURE() << presented.error().message();
        ++failures;
      }
    }
  });
  std::uint64_t last = 0;
  while (out.flips < kFlips) {
    auto flip = chain->flip();
    if (!flip) {
      ADD_FAILURE() << flip.error().message();
      break;
    }
    if (failures.load() != 0) break;
    if (!flip->flipped) {
      // A tick that found nothing new shows the old front again: check it all the same.
      if (chain->front_bytes().empty()) continue;
      ++out.flips;
      ++out.repeats;
      if (zc::frame_pattern_id(chain->front_bytes(), row) != last) ++out.torn;
      continue;
    }
    ++out.flips;
    if (zc::frame_pattern_id(chain->front_bytes(), row) != flip->frame_id) ++out.torn;
    const bool in_order =
        mode == zc::PresentMode::fifo ? flip->frame_id == last + 1 : flip->frame_id > last;
    if (!in_order) {
      ++out.out_of_order;
      ADD_FAILURE() << last << " -> " << flip->frame_id << " slot " << flip->slot;
    }
    last = flip->frame_id;
    busy(consumer_work);
    // Read the frame again after the work: a producer writing into the front would show here.
    if (zc::frame_pattern_id(chain->front_bytes(), row) != flip->frame_id) ++out.torn;
  }
  stop.store(true, std::memory_order_relaxed);
  // FIFO: the producer may be waiting for a slot; one more flip frees one.
  for (int i = 0; i < 4; ++i) (void)chain->flip();
  producer.join();
  out.producer_failures = failures.load();
  out.stats = chain->stats();
  return out;
}

TEST(SwapChainStress, fifo_with_a_faster_producer_shows_every_frame_untorn) {
  const Outcome o = run(zc::PresentMode::fifo, 0, 200);
  EXPECT_EQ(o.flips, kFlips);
  EXPECT_EQ(o.torn, 0U);
  EXPECT_EQ(o.out_of_order, 0U);
  EXPECT_EQ(o.stats.dropped, 0U);
  EXPECT_EQ(o.producer_failures, 0U);
}

TEST(SwapChainStress, fifo_with_a_slower_producer_shows_every_frame_untorn) {
  const Outcome o = run(zc::PresentMode::fifo, 200, 0);
  EXPECT_EQ(o.flips, kFlips);
  EXPECT_GT(o.repeats, 0U);  // the compositor did outrun the producer
  EXPECT_EQ(o.torn, 0U);
  EXPECT_EQ(o.out_of_order, 0U);
  EXPECT_EQ(o.stats.dropped, 0U);
  EXPECT_EQ(o.producer_failures, 0U);
}

TEST(SwapChainStress, mailbox_with_a_faster_producer_never_blocks_it_and_never_tears) {
  const Outcome o = run(zc::PresentMode::mailbox, 0, 200);
  EXPECT_EQ(o.flips, kFlips);
  EXPECT_EQ(o.torn, 0U);
  EXPECT_EQ(o.out_of_order, 0U);
  EXPECT_EQ(o.producer_failures, 0U);  // acquire(0 ns) never failed
  EXPECT_GT(o.stats.dropped, 0U);      // the producer outran the compositor
}

TEST(SwapChainStress, mailbox_with_a_slower_producer_never_tears) {
  const Outcome o = run(zc::PresentMode::mailbox, 200, 0);
  EXPECT_EQ(o.flips, kFlips);
  EXPECT_GT(o.repeats, 0U);
  EXPECT_EQ(o.torn, 0U);
  EXPECT_EQ(o.out_of_order, 0U);
  EXPECT_EQ(o.producer_failures, 0U);
}

}  // namespace
