// The PieceScheduler's bookkeeping of bad pieces, driven by hand: no transfer runs, each
// "transfer" is an advance() of the piece's count before finish().
#include "http/client/piece_scheduler.hpp"

#include <gtest/gtest.h>

namespace zc::http::detail {
namespace {

constexpr std::uint64_t kLength = 100;

PartRecord three_pieces() {
  PartRecord record;
  record.size = 3 * kLength;
  for (std::uint64_t i = 0; i < 3; ++i) {
    record.ranges.push_back({.first = i * kLength, .last = (i + 1) * kLength - 1, .done = 0});
  }
  return record;
}

// Worker `worker` (of source `worker`) writes all of `piece`, as a transfer would, and ends.
void land(PieceScheduler& scheduler, PartProgress& progress, std::size_t worker, std::size_t piece,
          PieceScheduler::Outcome outcome) {
  progress.advance(piece, kLength);
  scheduler.source_bytes(worker).fetch_add(kLength);
  scheduler.finish(worker, piece, outcome);
}

TEST(PieceScheduler, EachWorkerStartsOnItsOwnPieceInWorkerOrder) {
  PartProgress progress(-1, "unused", -1, three_pieces(), false);
  PieceScheduler scheduler(progress, {0, 1, 2}, 3);
  // Asked in the opposite order, each still gets the piece of its place.
  EXPECT_EQ(scheduler.next(2), 2u);
  EXPECT_EQ(scheduler.next(1), 1u);
  EXPECT_EQ(scheduler.next(0), 0u);
}

TEST(PieceScheduler, ABadPieceGoesToAnotherSourceAndItsBytesLeaveTheSendersCount) {
  PartProgress progress(-1, "unused", -1, three_pieces(), false);
  PieceScheduler scheduler(progress, {0, 1}, 2, /*bad_limit=*/2);
  ASSERT_EQ(scheduler.next(0), 0u);
  ASSERT_EQ(scheduler.next(1), 1u);
  land(scheduler, progress, 0, 0, PieceScheduler::Outcome::bad);
  EXPECT_EQ(progress.done(0), 0u);
  EXPECT_EQ(scheduler.source_bytes(0).load(), 0u);
  EXPECT_EQ(scheduler.bad_pieces(0), 1u);
  EXPECT_FALSE(scheduler.dropped_as_bad(0));
  // Source 0 is passed over for piece 0, which waits at the front for source 1.
  EXPECT_EQ(scheduler.next(0), 2u);
  land(scheduler, progress, 1, 1, PieceScheduler::Outcome::complete);
  EXPECT_EQ(scheduler.next(1), 0u);
  land(scheduler, progress, 1, 0, PieceScheduler::Outcome::complete);
  // A second bad piece reaches the limit: source 0 gets nothing more.
  land(scheduler, progress, 0, 2, PieceScheduler::Outcome::bad);
  EXPECT_TRUE(scheduler.dropped_as_bad(0));
  EXPECT_EQ(scheduler.next(0), std::nullopt);
  EXPECT_EQ(scheduler.next(1), 2u);
  land(scheduler, progress, 1, 2, PieceScheduler::Outcome::complete);
  EXPECT_TRUE(scheduler.all_done());
  EXPECT_EQ(scheduler.source_bytes(1).load(), 3 * kLength);
  EXPECT_EQ(scheduler.bad_pieces(1), 0u);
}

TEST(PieceScheduler, APieceOnlyBadSourcesCanSendGoesBackToThemUntilTheLimit) {
  PartProgress progress(-1, "unused", -1, three_pieces(), false);
  PieceScheduler scheduler(progress, {0}, 1, /*bad_limit=*/2);
  ASSERT_EQ(scheduler.next(0), 0u);
  land(scheduler, progress, 0, 0, PieceScheduler::Outcome::bad);
  // No other source is left, so source 0 may try piece 0 again.
  EXPECT_EQ(scheduler.next(0), 0u);
  land(scheduler, progress, 0, 0, PieceScheduler::Outcome::bad);
  EXPECT_EQ(scheduler.next(0), std::nullopt);
  EXPECT_FALSE(scheduler.all_done());
}

}  // namespace
}  // namespace zc::http::detail
