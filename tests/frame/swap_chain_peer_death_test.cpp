// SwapChain peer death: a producer or compositor process killed at a random moment, 200 times;
// the survivor reclaims its slots through the pidfd and carries on. No slot leaks.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <random>

#include "support/child_process.hpp"
#include "zcopy/frame/frame_pattern.hpp"
#include "zcopy/frame/swap_chain.hpp"

namespace {

using namespace std::chrono_literals;

constexpr int kKills = 200;

std::uint32_t count_in(const zc::SwapChain& chain, zc::SlotPhase phase) {
  std::uint32_t n = 0;
  const auto states = chain.slot_states();
  for (std::uint32_t i = 0; i < chain.geometry().slot_count; ++i) n += states[i] == phase ? 1U : 0U;
  return n;
}

// The child runs `body` forever; the parent kills it after a random pause and waits, at most
// 10 s, for the pidfd to tell it the child is gone.
template <class Body>
bool kill_at_random(zc::SwapChain& survivor, zc::SwapRole child_role, std::mt19937& random,
                    Body body) {
  const pid_t pid = zc::test::spawn([&] {
    body();
    return 0;
  });
  if (pid < 0) return false;
  if (!survivor.watch_peer(pid, child_role)) return false;
  ::usleep(std::uniform_int_distribution<unsigned>(0, 3000)(random));
  ::kill(pid, SIGKILL);
  (void)zc::test::reap_within(pid, 10s);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!survivor.check_peer()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    ::usleep(100);
  }
  return true;
}

class SwapChainPeerDeath : public ::testing::TestWithParam<zc::PresentMode> {};

TEST_P(SwapChainPeerDeath, a_killed_producer_leaves_no_slot_held) {
  auto chain =
      zc::SwapChain::create({.width = 64, .height = 8, .slot_count = 3, .mode = GetParam()});
  ASSERT_TRUE(chain.has_value());
  const std::size_t row = chain->geometry().row_bytes;
  std::mt19937 random(17);
  std::uint64_t shown = 0;
  for (int round = 0; round < kKills; ++round) {
    ASSERT_TRUE(kill_at_random(*chain, zc::SwapRole::producer, random,
                               [&] {
                                 for (std::uint64_t id = 1;; ++id) {
                                   auto back = chain->acquire(1s);
                                   if (!back) continue;
                                   zc::render_frame_pattern(back->bytes, row, id);
                                   (void)chain->present(*back, id);
                                 }
                               }))
        << "round " << round;
    // The dead producer may have held one slot for writing: reclaimed, none left so.
    EXPECT_EQ(count_in(*chain, zc::SlotPhase::writing), 0U) << "round " << round;
    // The compositor carries on: every queued frame shows untorn, then nothing is left but its
    // front.
    for (;;) {
      auto flip = chain->flip();
      ASSERT_TRUE(flip.has_value());
      if (!flip->flipped) break;
      ++shown;
      EXPECT_EQ(zc::frame_pattern_id(chain->front_bytes(), row), flip->frame_id);
    }
    EXPECT_EQ(count_in(*chain, zc::SlotPhase::queued), 0U);
    EXPECT_LE(count_in(*chain, zc::SlotPhase::reading), 1U);
    EXPECT_EQ(count_in(*chain, zc::SlotPhase::free) + count_in(*chain, zc::SlotPhase::reading), 3U);
  }
  EXPECT_GT(shown, 0U);
}

TEST_P(SwapChainPeerDeath, a_killed_compositor_leaves_no_slot_held) {
  auto chain =
      zc::SwapChain::create({.width = 64, .height = 8, .slot_count = 3, .mode = GetParam()});
  ASSERT_TRUE(chain.has_value());
  const std::size_t row = chain->geometry().row_bytes;
  std::mt19937 random(71);
  std::uint64_t id = 0;
  for (int round = 0; round < kKills; ++round) {
    ASSERT_TRUE(kill_at_random(*chain, zc::SwapRole::consumer, random,
                               [&] {
                                 for (;;) {
                                   if (auto flip = chain->flip(); flip && !flip->flipped) {
                                     (void)chain->wait_presented(std::chrono::steady_clock::now() +
                                                                 1s);
                                   }
                                 }
                               }))
        << "round " << round;
    // The dead compositor held its front and perhaps a second slot mid-flip: all reclaimed.
    EXPECT_EQ(count_in(*chain, zc::SlotPhase::reading), 0U) << "round " << round;
    EXPECT_EQ(count_in(*chain, zc::SlotPhase::writing), 0U);
    // The producer carries on: with the compositor gone, a slot is still there to render into
    // (the reclaimed front, or in MAILBOX a queued frame taken back), or, in FIFO with every
    // slot queued for a compositor that never came, acquire ends cleanly with Errc::closed.
    auto back = chain->acquire(0ns);
    if (!back && GetParam() == zc::PresentMode::fifo) {
      EXPECT_EQ(back.error().code(), zc::Errc::closed) << back.error().message();
      EXPECT_EQ(count_in(*chain, zc::SlotPhase::queued), 3U);
      continue;
    }
    ASSERT_TRUE(back.has_value()) << "round " << round << ": " << back.error().message();
    zc::render_frame_pattern(back->bytes, row, ++id);
    ASSERT_TRUE(chain->present(*back, id).has_value());
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, SwapChainPeerDeath,
                         ::testing::Values(zc::PresentMode::mailbox, zc::PresentMode::fifo),
                         [](const auto& param_info) {
                           return param_info.param == zc::PresentMode::mailbox ? "mailbox" : "fifo";
                         });

}  // namespace
