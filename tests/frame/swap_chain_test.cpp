// SwapChain: slot states through acquire, present and flip in both modes, and the eventfd bridge.
#include "zcopy/frame/swap_chain.hpp"

#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>

#include "zcopy/frame/frame_pattern.hpp"

namespace {

using namespace std::chrono_literals;

zc::SwapChain make_chain(zc::PresentMode mode, std::uint32_t slots = 3) {
  auto chain = zc::SwapChain::create(
      {.width = 64, .height = 16, .bytes_per_pixel = 4, .slot_count = slots, .mode = mode});
  EXPECT_TRUE(chain.has_value()) << chain.error().message();
  return std::move(*chain);
}

TEST(SwapChain, presented_frame_becomes_the_front_without_a_copy) {
  auto chain = make_chain(zc::PresentMode::fifo);
  auto back = chain.acquire(0ns);
  ASSERT_TRUE(back.has_value()) << back.error().message();
  zc::render_frame_pattern(back->bytes, chain.geometry().row_bytes, 7);
  ASSERT_TRUE(chain.present(*back, 7).has_value());
  auto flip = chain.flip();
  ASSERT_TRUE(flip.has_value());
  EXPECT_TRUE(flip->flipped);
  EXPECT_EQ(flip->frame_id, 7U);
  // The front is the very memory the producer rendered into.
  EXPECT_EQ(chain.front_bytes().data(), back->bytes.data());
  EXPECT_EQ(zc::frame_pattern_id(chain.front_bytes(), chain.geometry().row_bytes), 7U);
  EXPECT_EQ(chain.slot_states()[back->slot], zc::SlotPhase::reading);
}

TEST(SwapChain, flip_with_nothing_new_repeats_the_front) {
  auto chain = make_chain(zc::PresentMode::fifo);
  auto flip = chain.flip();
  ASSERT_TRUE(flip.has_value());
  EXPECT_FALSE(flip->flipped);
  EXPECT_EQ(chain.stats().repeats, 1U);
}

TEST(SwapChain, fifo_shows_every_frame_in_order_and_makes_the_producer_wait) {
  auto chain = make_chain(zc::PresentMode::fifo, 3);
  for (std::uint64_t id = 1; id <= 3; ++id) {
    auto back = chain.acquire(0ns);
    ASSERT_TRUE(back.has_value()) << id;
    ASSERT_TRUE(chain.present(*back, id).has_value());
  }
  auto full = chain.acquire(1ms);
  ASSERT_FALSE(full.has_value());
  EXPECT_EQ(full.error().code(), zc::Errc::timeout);
  for (std::uint64_t id = 1; id <= 3; ++id) {
    auto flip = chain.flip();
    ASSERT_TRUE(flip.has_value());
    EXPECT_EQ(flip->frame_id, id);
    EXPECT_EQ(flip->dropped_count, 0U);
  }
  EXPECT_EQ(chain.stats().dropped, 0U);
}

TEST(SwapChain, mailbox_shows_the_newest_and_reports_the_displaced_frames) {
  auto chain = make_chain(zc::PresentMode::mailbox, 3);
  std::uint64_t displaced = 0;
  for (std::uint64_t id = 1; id <= 5; ++id) {
    auto back = chain.acquire(0ns);  // never waits
    ASSERT_TRUE(back.has_value()) << id;
    if (back->displaced_frame) ++displaced;
    ASSERT_TRUE(chain.present(*back, id).has_value());
  }
  auto flip = chain.flip();
  ASSERT_TRUE(flip.has_value());
  EXPECT_EQ(flip->frame_id, 5U);
  // Three slots: 5 presents, one shown, the rest displaced by the producer or dropped at the flip.
  EXPECT_EQ(displaced + flip->dropped_count, 4U);
  EXPECT_EQ(chain.stats().dropped, 4U);
}

TEST(SwapChain, present_of_a_reclaimed_slot_is_rejected_as_stale) {
  auto chain = make_chain(zc::PresentMode::fifo);
  auto back = chain.acquire(0ns);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(chain.reclaim_from(zc::SwapRole::producer), 1U);
  auto late = chain.present(*back, 1);
  ASSERT_FALSE(late.has_value());
  EXPECT_EQ(late.error().code(), zc::Errc::rejected);
  EXPECT_EQ(chain.stats().stale_presents, 1U);
  EXPECT_EQ(chain.slot_states()[back->slot], zc::SlotPhase::free);
}

TEST(SwapChain, consumer_eventfd_becomes_readable_at_a_present) {
  auto chain = make_chain(zc::PresentMode::mailbox);
  const int fd = chain.wait_fd(zc::SwapRole::consumer);
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 0), 0);
  auto back = chain.acquire(0ns);
  ASSERT_TRUE(back.has_value());
  ASSERT_TRUE(chain.present(*back, 1).has_value());
  ASSERT_EQ(::poll(&p, 1, 0), 1);
}

TEST(SwapChain, attach_in_another_mapping_sees_the_same_slots) {
  auto chain = make_chain(zc::PresentMode::fifo);
  auto handles = chain.share();
  ASSERT_TRUE(handles.has_value()) << handles.error().message();
  auto peer = zc::SwapChain::attach(std::move(*handles));
  ASSERT_TRUE(peer.has_value()) << peer.error().message();
  auto back = chain.acquire(0ns);
  ASSERT_TRUE(back.has_value());
  zc::render_frame_pattern(back->bytes, chain.geometry().row_bytes, 42);
  ASSERT_TRUE(chain.present(*back, 42).has_value());
  auto flip = peer->flip();
  ASSERT_TRUE(flip.has_value());
  EXPECT_EQ(flip->frame_id, 42U);
  EXPECT_EQ(zc::frame_pattern_id(peer->front_bytes(), peer->geometry().row_bytes), 42U);
}

TEST(SwapChain, out_of_range_dimensions_are_refused) {
  auto chain = zc::SwapChain::create({.width = 64, .height = 16, .slot_count = 5});
  ASSERT_FALSE(chain.has_value());
  EXPECT_EQ(chain.error().code(), zc::Errc::invalid_argument);
  EXPECT_NE(chain.error().message().find("slot count 5"), std::string::npos);
}

}  // namespace
