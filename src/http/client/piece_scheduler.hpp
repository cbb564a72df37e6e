// src/http/client/piece_scheduler.hpp: which connection fetches which piece of a file fetched from
// several sources.
//
// Pieces wait in one queue; a connection takes the next one when it finishes its last, so each
// source gets a share in proportion to its rate. Once the queue is empty an idle connection takes
// over the slowest in-flight piece: the owner's cancel flag is raised, its transfer ends at the
// next slice (stall_watch.hpp), it reports `taken`, and the piece passes to the waiting taker,
// which goes on from the piece's last written byte (PartProgress). A failed piece returns to the
// front of the queue and its source gets no more pieces.
//
// Each connection starts on its own piece, in worker order (worker i on the i-th missing piece),
// so the first pieces go to the sources in the order given. The scheduler records which sources
// wrote how many bytes of each piece; a piece whose bytes did not match its hash (`bad`) is
// emptied and queued again, every source that wrote some of it is counted bad and loses those
// bytes from its count, and the piece goes to another source while one is left. A source with
// `bad_limit` bad pieces gets no more.
//
// Thread safety: every method may be called from any thread; one mutex guards the queue and the
// pieces' owners, and next() waits on a condition variable.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "part_progress.hpp"

namespace zc::http::detail {

class PieceScheduler {
 public:
  enum class Outcome { complete, taken, failed, bad };

  // `progress` (borrowed) has one range per piece; worker i belongs to source worker_source[i];
  // bad_limit 0: no limit.
  PieceScheduler(PartProgress& progress, std::vector<std::size_t> worker_source,
                 std::size_t source_count, unsigned bad_limit = 0);

  // Blocks until `worker` owns a piece, or returns nullopt when nothing is left for it: every
  // piece is done or in other hands that it cannot take over, its source was dropped, or stop().
  std::optional<std::size_t> next(std::size_t worker);
  // `worker`'s transfer of `piece` ended. `failed` drops the worker's source; `bad` (the piece
  // was complete but wrong) empties the piece and counts every source that wrote it.
  void finish(std::size_t worker, std::size_t piece, Outcome outcome);
  // Ends every transfer (their cancel flags) and makes next() return nullopt.
  void stop();

  // Set when `worker`'s transfer must end (taken over, or stop()); the transfer's stop flag.
  std::atomic<bool>& cancel_flag(std::size_t worker) { return cancel_[worker]; }
  // Bytes written from `source`; transfers add to it (relaxed: rates and display only).
  std::atomic<std::uint64_t>& source_bytes(std::size_t source) { return bytes_[source]; }
  bool all_done() const;
  // Pieces `source` wrote bad bytes of; whether it reached the limit and gets no more.
  unsigned bad_pieces(std::size_t source) const;
  bool dropped_as_bad(std::size_t source) const;

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kNobody = static_cast<std::size_t>(-1);

  struct Share {
    std::size_t source = 0;
    std::uint64_t bytes = 0;
  };

  struct Piece {
    std::size_t owner = kNobody;
    std::size_t taker = kNobody;  // waiting to take it over
    Clock::time_point started{};
    std::uint64_t owner_from = 0;    // the piece's done count when the owner began
    std::vector<Share> writers;      // who wrote the bytes before the owner's
    std::vector<std::size_t> avoid;  // sources that sent bad bytes of it
    std::size_t reserved = kNobody;  // the worker that starts on it, until that one has begun
    bool done = false;
  };

  double rate_locked(std::size_t source, Clock::time_point now) const;
  std::optional<std::size_t> slowest_piece_locked(std::size_t worker, Clock::time_point now) const;
  void hand_over_locked(std::size_t piece);
  void own_locked(std::size_t piece, std::size_t worker, Clock::time_point now);
  bool may_take_locked(std::size_t piece, std::size_t worker) const;
  void blame_locked(std::size_t piece);

  PartProgress& progress_;
  const unsigned bad_limit_;
  const std::vector<std::size_t> worker_source_;
  std::unique_ptr<std::atomic<bool>[]> cancel_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> bytes_;

  mutable std::mutex mutex_;  // protects everything below
  std::condition_variable changed_;
  std::deque<std::size_t> queue_;
  std::vector<Piece> pieces_;
  std::vector<std::optional<Clock::time_point>> source_started_;
  std::vector<bool> source_dropped_;
  std::vector<unsigned> source_busy_;  // connections of each source holding a piece
  std::vector<unsigned> source_bad_;
  std::vector<bool> worker_started_;  // called next() at least once
  bool stopped_ = false;
};

}  // namespace zc::http::detail
