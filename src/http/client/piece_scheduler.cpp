#include "piece_scheduler.hpp"

#include <algorithm>

#include "zcopy/http/client/download_sources.hpp"

namespace zc::http::detail {
namespace {

// A tail shorter than this is not worth a new connection.
constexpr std::uint64_t kMinTakeOverBytes = 256 * 1024;
// How much faster a connection must be than the owner's to take its piece over.
constexpr double kTakeOverFactor = 2.0;
// How long an idle connection waits before it looks again for a piece to take over.
constexpr std::chrono::milliseconds kIdleLook{100};

}  // namespace

PieceScheduler::PieceScheduler(PartProgress& progress, std::vector<std::size_t> worker_source,
                               std::size_t source_count, unsigned bad_limit)
    : progress_(progress),
      bad_limit_(bad_limit),
      worker_source_(std::move(worker_source)),
      cancel_(std::make_unique<std::atomic<bool>[]>(worker_source_.size())),
      bytes_(std::make_unique<std::atomic<std::uint64_t>[]>(source_count)),
      pieces_(progress.layout().ranges.size()),
      source_started_(source_count),
      source_dropped_(source_count, false),
      source_busy_(source_count, 0),
      source_bad_(source_count, 0),
      worker_started_(worker_source_.size(), false) {
  for (std::size_t i = 0; i < pieces_.size(); ++i) {
    if (progress_.done(i) < progress_.layout().ranges[i].length()) {
      if (queue_.size() < worker_source_.size()) pieces_[i].reserved = queue_.size();
      queue_.push_back(i);
    } else {
      pieces_[i].done = true;
    }
  }
}

bool PieceScheduler::may_take_locked(std::size_t piece, std::size_t worker) const {
  const Piece& p = pieces_[piece];
  if (p.reserved == worker) return true;
  if (p.reserved != kNobody && !worker_started_[p.reserved]) return false;
  const auto sent_bad = [&](std::size_t source) {
    return std::find(p.avoid.begin(), p.avoid.end(), source) != p.avoid.end();
  };
  if (!sent_bad(worker_source_[worker])) return true;
  // A source that sent bad bytes of it gets it again only when no other source is left.
  return std::none_of(worker_source_.begin(), worker_source_.end(), [&](std::size_t source) {
    return !source_dropped_[source] && !sent_bad(source);
  });
}

void PieceScheduler::own_locked(std::size_t piece, std::size_t worker, Clock::time_point now) {
  Piece& p = pieces_[piece];
  p.owner = worker;
  p.reserved = kNobody;
  p.started = now;
  p.owner_from = progress_.done(piece);
  ++source_busy_[worker_source_[worker]];
}

// The piece's bytes did not match: every source that wrote some is counted, loses them from its
// count, and is avoided for this piece; the piece starts again from nothing.
void PieceScheduler::blame_locked(std::size_t piece) {
  Piece& p = pieces_[piece];
  std::vector<std::size_t> counted;
  for (const Share& share : p.writers) {
    bytes_[share.source].fetch_sub(share.bytes, std::memory_order_relaxed);
    if (share.bytes == 0 ||
        std::find(counted.begin(), counted.end(), share.source) != counted.end()) {
      continue;
    }
    counted.push_back(share.source);
    if (std::find(p.avoid.begin(), p.avoid.end(), share.source) == p.avoid.end()) {
      p.avoid.push_back(share.source);
    }
    if (++source_bad_[share.source] >= bad_limit_ && bad_limit_ > 0) {
      source_dropped_[share.source] = true;
    }
  }
  p.writers.clear();
  progress_.reset(piece);
}

double PieceScheduler::rate_locked(std::size_t source, Clock::time_point now) const {
  if (!source_started_[source]) return 0;
  const double seconds = std::chrono::duration<double>(now - *source_started_[source]).count();
  const unsigned connections = std::max(1u, source_busy_[source]);
  const double bytes = static_cast<double>(bytes_[source].load(std::memory_order_relaxed));
  return seconds > 0 ? bytes / seconds / connections : 0;
}

std::optional<std::size_t> PieceScheduler::slowest_piece_locked(std::size_t worker,
                                                                Clock::time_point now) const {
  const double own = rate_locked(worker_source_[worker], now);
  if (own <= 0) return std::nullopt;  // unmeasured: no reason to think it faster
  std::optional<std::size_t> best;
  double longest = 0;
  for (std::size_t i = 0; i < pieces_.size(); ++i) {
    const Piece& piece = pieces_[i];
    if (piece.done || piece.owner == kNobody || piece.taker != kNobody) continue;
    if (now - piece.started < kMinStealAge) continue;
    const std::uint64_t left = progress_.layout().ranges[i].length() - progress_.done(i);
    if (left < kMinTakeOverBytes) continue;
    const double owner = rate_locked(worker_source_[piece.owner], now);
    if (own < kTakeOverFactor * owner) continue;
    const double remaining_s = static_cast<double>(left) / std::max(owner, 1.0);
    if (remaining_s > longest) {
      longest = remaining_s;
      best = i;
    }
  }
  return best;
}

std::optional<std::size_t> PieceScheduler::next(std::size_t worker) {
  const std::size_t source = worker_source_[worker];
  std::unique_lock lock(mutex_);
  worker_started_[worker] = true;
  for (;;) {
    if (stopped_ || source_dropped_[source]) return std::nullopt;
    const auto now = Clock::now();
    if (!source_started_[source]) source_started_[source] = now;
    const auto open = std::find_if(queue_.begin(), queue_.end(), [&](std::size_t piece) {
      return may_take_locked(piece, worker);
    });
    if (open != queue_.end()) {
      const std::size_t piece = *open;
      queue_.erase(open);
      own_locked(piece, worker, now);
      return piece;
    }
    const bool in_flight =
        std::any_of(pieces_.begin(), pieces_.end(), [](const Piece& p) { return !p.done; });
    if (!in_flight) return std::nullopt;
    if (const auto piece = slowest_piece_locked(worker, now)) {
      pieces_[*piece].taker = worker;
      cancel_[pieces_[*piece].owner].store(true, std::memory_order_relaxed);
      changed_.wait(lock, [&] {
        return stopped_ || pieces_[*piece].owner == worker || pieces_[*piece].done;
      });
      if (pieces_[*piece].owner == worker) return piece;
      continue;  // stopped, or the owner finished it first
    }
    // A failing source may still put its piece back; look again shortly.
    changed_.wait_for(lock, kIdleLook);
  }
}

void PieceScheduler::hand_over_locked(std::size_t piece) {
  Piece& p = pieces_[piece];
  const std::size_t taker = p.taker;
  p.taker = kNobody;
  own_locked(piece, taker, Clock::now());
}

void PieceScheduler::finish(std::size_t worker, std::size_t piece, Outcome outcome) {
  {
    const std::lock_guard lock(mutex_);
    Piece& p = pieces_[piece];
    const std::size_t source = worker_source_[worker];
    --source_busy_[source];
    cancel_[worker].store(stopped_, std::memory_order_relaxed);
    if (outcome == Outcome::failed) source_dropped_[source] = true;
    const std::uint64_t now_done =
        outcome == Outcome::bad ? progress_.layout().ranges[piece].length() : progress_.done(piece);
    p.writers.push_back({.source = source, .bytes = now_done - std::min(now_done, p.owner_from)});
    if (outcome == Outcome::bad) {
      blame_locked(piece);
      p.owner = kNobody;
      if (p.taker != kNobody) {
        hand_over_locked(piece);
      } else {
        queue_.push_front(piece);
      }
    } else if (outcome == Outcome::complete &&
               progress_.done(piece) == progress_.layout().ranges[piece].length()) {
      p.done = true;
      p.owner = kNobody;
      p.taker = kNobody;  // a waiting taker sees `done` and looks again
    } else if (p.taker != kNobody) {
      hand_over_locked(piece);
    } else {
      p.owner = kNobody;
      queue_.push_front(piece);
    }
  }
  changed_.notify_all();
}

void PieceScheduler::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopped_ = true;
    for (std::size_t i = 0; i < worker_source_.size(); ++i) {
      cancel_[i].store(true, std::memory_order_relaxed);
    }
  }
  changed_.notify_all();
}

unsigned PieceScheduler::bad_pieces(std::size_t source) const {
  const std::lock_guard lock(mutex_);
  return source_bad_[source];
}

bool PieceScheduler::dropped_as_bad(std::size_t source) const {
  const std::lock_guard lock(mutex_);
  return bad_limit_ > 0 && source_bad_[source] >= bad_limit_;
}

bool PieceScheduler::all_done() const {
  const std::lock_guard lock(mutex_);
  return std::all_of(pieces_.begin(), pieces_.end(), [](const Piece& p) { return p.done; });
}

}  // namespace zc::http::detail
