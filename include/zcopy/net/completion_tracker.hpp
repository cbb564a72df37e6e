// zcopy/net/completion_tracker.hpp: which zero-copy sends may give their buffers back.
//
// A send of one buffer can take several kernel calls (a partial TCP send is finished by another
// call), and each call gets the next number of the kernel's 32-bit counter. The tracker hands out
// those numbers, groups them into sends (tickets), and takes the kernel's completion ranges in any
// order, across wraps, and merged or not. A send is complete when all its calls are, and then its
// release function runs, exactly once.
//
//   CompletionTracker tracker;
//   std::uint64_t ticket = tracker.begin_send(bytes, release);  // a new send
//   tracker.add_call(ticket);                                    // one per successful sendmsg
//   tracker.end_send(ticket);                                    // no more calls for it
//   tracker.complete(range.lo, range.hi, range.copied);          // from the error queue
//
// Not thread-safe: one sender owns it.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include "zcopy/core/error.hpp"

namespace zc::net {

class CompletionTracker {
 public:
  using Release = std::function<void()>;

  // `first_call` is the kernel counter's next value (0 on a fresh socket).
  explicit CompletionTracker(std::uint32_t first_call = 0)
      : next_call_(first_call), call_base_(first_call) {}

  // A new send of `bytes` bytes; its release runs once all its calls complete (at end_send() if
  // it made none). Returns its ticket; tickets count up from 0.
  std::uint64_t begin_send(std::uint64_t bytes, Release release);
  // Records one successful zero-copy call for the open send; returns its 32-bit number.
  std::uint32_t add_call();
  // Closes the open send: no further calls belong to it.
  void end_send();

  // The kernel completed calls [lo, hi] (32-bit, inclusive, possibly wrapped). Errc::corrupt when
  // the range names a call that was never made or already completed.
  Result<void> complete(std::uint32_t lo, std::uint32_t hi, bool copied);

  // Numbers the next call `next` (another counter takes over, as when a sender goes from SEND_ZC
  // to MSG_ZEROCOPY). Errc::invalid_argument while calls are outstanding.
  Result<void> renumber_calls(std::uint32_t next);

  // Whether the send with this ticket has released its buffer.
  bool is_complete(std::uint64_t ticket) const noexcept;

  std::uint64_t calls_outstanding() const noexcept { return calls_outstanding_; }
  std::uint64_t bytes_outstanding() const noexcept { return bytes_outstanding_; }
  std::uint64_t sends_outstanding() const noexcept { return tickets_.size() - completed_in_queue_; }
  std::uint64_t sends_completed() const noexcept { return sends_completed_; }
  std::uint64_t calls_completed() const noexcept { return calls_completed_; }
  std::uint64_t calls_copied() const noexcept { return calls_copied_; }
  // Bytes of completed sends whose calls the kernel reported as copied / not copied. A send with
  // some of each counts as copied.
  std::uint64_t bytes_completed_copied() const noexcept { return bytes_copied_; }
  std::uint64_t bytes_completed_zero_copy() const noexcept { return bytes_zero_copy_; }

 private:
  struct Call {
    std::uint64_t ticket = 0;
    bool done = false;
  };
  struct Ticket {
    std::uint64_t bytes = 0;
    std::uint64_t calls_left = 0;
    std::uint64_t calls_made = 0;
    bool open = true;
    bool done = false;
    bool copied = false;
    Release release;
  };

  void finish(Ticket& ticket);
  void pop_done();
  void run_releases();

  std::uint64_t next_call_;  // 64-bit call numbers; the kernel sees the low 32 bits
  std::uint64_t call_base_;  // number of calls_.front()
  std::deque<Call> calls_;
  std::uint64_t ticket_base_ = 0;  // ticket of tickets_.front()
  std::deque<Ticket> tickets_;
  std::uint64_t completed_in_queue_ = 0;
  std::uint64_t calls_outstanding_ = 0;
  std::uint64_t bytes_outstanding_ = 0;
  std::uint64_t sends_completed_ = 0;
  std::uint64_t calls_completed_ = 0;
  std::uint64_t calls_copied_ = 0;
  std::uint64_t bytes_copied_ = 0;
  std::uint64_t bytes_zero_copy_ = 0;
  std::vector<Release> releases_;
};

}  // namespace zc::net
