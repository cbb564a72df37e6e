// Bookkeeping of zero-copy calls and the sends they belong to (see completion_tracker.hpp).
#include "zcopy/net/completion_tracker.hpp"

#include <string>
#include <utility>
#include <vector>

namespace zc::net {

std::uint64_t CompletionTracker::begin_send(std::uint64_t bytes, Release release) {
  tickets_.push_back(Ticket{.bytes = bytes, .release = std::move(release)});
  bytes_outstanding_ += bytes;
  return ticket_base_ + tickets_.size() - 1;
}

std::uint32_t CompletionTracker::add_call() {
  const std::uint64_t ticket = ticket_base_ + tickets_.size() - 1;
  calls_.push_back(Call{.ticket = ticket});
  ++tickets_.back().calls_left;
  ++tickets_.back().calls_made;
  ++calls_outstanding_;
  return static_cast<std::uint32_t>(next_call_++);
}

void CompletionTracker::end_send() {
  Ticket& ticket = tickets_.back();
  ticket.open = false;
  if (ticket.calls_left == 0) finish(ticket);
  pop_done();
  run_releases();
}

void CompletionTracker::finish(Ticket& ticket) {
  ticket.done = true;
  ++completed_in_queue_;
  ++sends_completed_;
  bytes_outstanding_ -= ticket.bytes;
  // A send that made no zero-copy call (it was copied up front) counts in neither.
  if (ticket.calls_made > 0) (ticket.copied ? bytes_copied_ : bytes_zero_copy_) += ticket.bytes;
  if (ticket.release) {
    releases_.push_back(std::move(ticket.release));
    ticket.release = nullptr;
  }
}

void CompletionTracker::run_releases() {
  // Run after the bookkeeping is consistent: a release may send again, which changes the queues.
  std::vector<Release> releases = std::move(releases_);
  releases_.clear();
  for (Release& release : releases) release();
}

void CompletionTracker::pop_done() {
  while (!calls_.empty() && calls_.front().done) {
    calls_.pop_front();
    ++call_base_;
  }
  while (!tickets_.empty() && tickets_.front().done) {
    tickets_.pop_front();
    ++ticket_base_;
    --completed_in_queue_;
  }
}

Result<void> CompletionTracker::renumber_calls(std::uint32_t next) {
  pop_done();
  if (calls_outstanding_ > 0 || !calls_.empty()) {
    return fail(Errc::invalid_argument, "renumber zero-copy calls",
                std::to_string(calls_outstanding_) + " calls outstanding");
  }
  next_call_ = call_base_ = next;
  return {};
}

Result<void> CompletionTracker::complete(std::uint32_t lo, std::uint32_t hi, bool copied) {
  // Widen to 64 bits against the oldest call still outstanding: the kernel's counter is its low
  // 32 bits, and no more than 2^32 calls can be in flight.
  const std::uint64_t first =
      call_base_ + std::uint32_t(lo - static_cast<std::uint32_t>(call_base_));
  const std::uint64_t count = std::uint64_t{std::uint32_t(hi - lo)} + 1;
  if (first + count > next_call_) {
    return fail(Errc::corrupt, "zero-copy notification",
                "range [" + std::to_string(lo) + ", " + std::to_string(hi) +
                    "] names calls never made (next is " +
                    std::to_string(static_cast<std::uint32_t>(next_call_)) + ")");
  }
  for (std::uint64_t n = first; n < first + count; ++n) {
    if (calls_[n - call_base_].done) {
      return fail(Errc::corrupt, "zero-copy notification",
                  "call " + std::to_string(static_cast<std::uint32_t>(n)) + " completed twice");
    }
  }
  for (std::uint64_t n = first; n < first + count; ++n) {
    Call& call = calls_[n - call_base_];
    call.done = true;
    --calls_outstanding_;
    ++calls_completed_;
    if (copied) ++calls_copied_;
    Ticket& ticket = tickets_[call.ticket - ticket_base_];
    ticket.copied = ticket.copied || copied;
    if (--ticket.calls_left == 0 && !ticket.open) finish(ticket);
  }
  pop_done();
  run_releases();
  return {};
}

bool CompletionTracker::is_complete(std::uint64_t ticket) const noexcept {
  if (ticket < ticket_base_) return true;
  const std::uint64_t index = ticket - ticket_base_;
  return index < tickets_.size() && tickets_[index].done;
}

}  // namespace zc::net
