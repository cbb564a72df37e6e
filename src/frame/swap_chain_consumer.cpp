// SwapChain, the consumer's side: flip to the next frame at a tick, free the old front.
#include <algorithm>
#include <utility>

#include "frame/swap_chain_shared.hpp"
#include "frame/timeline.hpp"
#include "zcopy/frame/swap_chain.hpp"

namespace zc {

using detail::SharedSlot;
using detail::SlotState;
using detail::SlotWord;
using detail::with_state;

namespace {

struct Candidate {
  std::uint32_t slot = 0;
  SlotWord word = 0;
  std::uint64_t sequence = 0;
};

}  // namespace

Result<FlipResult> SwapChain::flip() {
  (void)check_peer();
  const std::uint32_t count = geometry_.slot_count;
  const bool mailbox = geometry_.mode == PresentMode::mailbox;
  FlipResult result;
  for (;;) {
    // The queued slots, oldest first by present sequence.
    std::array<Candidate, kMaxSwapSlots> queued{};
    std::uint32_t n = 0;
    std::array<SlotWord, kMaxSwapSlots> seen{};
    for (std::uint32_t i = 0; i < count; ++i) {
      const SlotWord word = shared_->slots[i].word.load(std::memory_order_seq_cst);
      seen[i] = word;
      if (detail::state_of(word) != SlotState::queued) continue;
      // Relaxed: a hint for the order; the fields are re-read once the claim CAS owns the slot.
      queued[n++] = {i, word, shared_->slots[i].sequence.load(std::memory_order_relaxed)};
    }
    // One pass is no snapshot: the producer may present into a slot already looked at and then
    // into one not yet looked at, hiding the older frame. A second pass that reads the same words
    // (which never repeat: the tag changes at every present) proves there was a moment when all
    // of them held at once.
    bool moved = false;
    for (std::uint32_t i = 0; i < count; ++i) {
      moved = moved || shared_->slots[i].word.load(std::memory_order_seq_cst) != seen[i];
    }
    if (moved) continue;
    if (n == 0) {
      shared_->counters.repeats.fetch_add(1, std::memory_order_relaxed);
      return result;
    }
    // Insertion sort: at most four entries (std::sort trips g++ 12's -Warray-bounds here).
    for (std::uint32_t k = 1; k < n; ++k) {
      for (std::uint32_t j = k; j > 0 && queued[j].sequence < queued[j - 1].sequence; --j) {
        std::swap(queued[j], queued[j - 1]);
      }
    }
    Candidate pick = mailbox ? queued[n - 1] : queued[0];
    SharedSlot& slot = shared_->slots[pick.slot];
    // SYNC POINT: acquire side of the producer's present CAS: the pixels, frame id and present
    // time it wrote are visible once we own the slot. Paired also with the producer's MAILBOX
    // take-back CAS: only one of the two moves a queued slot.
    if (!slot.word.compare_exchange_strong(pick.word, with_state(pick.word, SlotState::reading),
                                           std::memory_order_seq_cst)) {
      continue;  // the producer took it back, or a reclaim bumped it: look again
    }
    result.flipped = true;
    result.slot = pick.slot;
    // Relaxed: ordered by the CAS above.
    result.frame_id = slot.frame_id.load(std::memory_order_relaxed);
    const std::uint64_t presented_at = slot.present_ns.load(std::memory_order_relaxed);
    const std::uint64_t now = detail::monotonic_ns();
    result.latency = std::chrono::nanoseconds(now > presented_at ? now - presented_at : 0);

    // MAILBOX: frames queued before the one shown will never be; free them.
    bool freed = false;
    if (mailbox) {
      for (std::uint32_t k = 0; k + 1 < n; ++k) {
        SharedSlot& older = shared_->slots[queued[k].slot];
        SlotWord word = queued[k].word;
        // Read while still queued: once freed, the producer may rewrite it.
        const std::uint64_t id = older.frame_id.load(std::memory_order_relaxed);
        // SYNC POINT: as for the take-back: the producer's CAS and ours race for a queued slot.
        if (queued[k].sequence < pick.sequence &&
            older.word.compare_exchange_strong(word, with_state(word, SlotState::free),
                                               std::memory_order_seq_cst)) {
          result.dropped[result.dropped_count++] = id;
          freed = true;
        }
      }
      shared_->counters.dropped.fetch_add(result.dropped_count, std::memory_order_relaxed);
    }

    // Relaxed: the front index is for inspection; this process shows front_slot_.
    shared_->front.store(pick.slot, std::memory_order_relaxed);
    if (has_front_) {
      SlotWord expected = front_word_;
      // SYNC POINT: release side for our reads of the old front, paired with the producer's
      // acquire CAS on a free slot. Fails only if the slot was reclaimed from us (we were taken
      // for dead), in which case it is not ours to free.
      freed = shared_->slots[front_slot_].word.compare_exchange_strong(
                  expected, with_state(front_word_, SlotState::free), std::memory_order_seq_cst) ||
              freed;
    }
    front_slot_ = pick.slot;
    front_word_ = with_state(pick.word, SlotState::reading);
    has_front_ = true;
    detail::SharedCounters& c = shared_->counters;
    c.shown.fetch_add(1, std::memory_order_relaxed);
    c.last_shown_id.store(result.frame_id, std::memory_order_relaxed);
    c.last_latency_ns.store(static_cast<std::uint64_t>(result.latency.count()),
                            std::memory_order_relaxed);
    if (freed) detail::timeline_signal(shared_->released, released_fd_.get());
    return result;
  }
}

std::span<const std::byte> SwapChain::front_bytes() const noexcept {
  if (!has_front_) return {};
  return region_.bytes().subspan(geometry_.offset_of(front_slot_), geometry_.slot_bytes);
}

Result<bool> SwapChain::wait_presented(std::chrono::steady_clock::time_point deadline) {
  const std::uint32_t count = geometry_.slot_count;
  const auto any_queued = [&] {
    for (std::uint32_t i = 0; i < count; ++i) {
      if (detail::state_of(shared_->slots[i].word.load(std::memory_order_seq_cst)) ==
          SlotState::queued) {
        return true;
      }
    }
    return false;
  };
  for (;;) {
    if (any_queued()) return true;
    if (check_peer()) {
      if (any_queued()) return true;
      return fail(Errc::closed, "swap chain wait", "the producer exited");
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    const auto slice =
        peer_pidfd_.valid() ? std::min(deadline, now + detail::kPeerCheckSlice) : deadline;
    if (detail::timeline_wait(shared_->presented, any_queued, slice)) return true;
  }
}

}  // namespace zc
