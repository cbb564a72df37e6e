// SwapChain, the producer's side: acquire a back slot, present it.
#include <algorithm>
#include <array>

#include "frame/swap_chain_shared.hpp"
#include "frame/timeline.hpp"
#include "zcopy/frame/swap_chain.hpp"

namespace zc {

using detail::SharedSlot;
using detail::SlotState;
using detail::SlotWord;
using detail::with_state;

Result<BackBuffer> SwapChain::acquire(std::chrono::nanoseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // A flip in progress is waited out even past the deadline (MAILBOX), but not forever: a
  // consumer that died mid-flip and is not watched must not hang us.
  const auto flip_deadline = deadline + std::chrono::seconds(1);
  const std::uint32_t count = geometry_.slot_count;
  const bool mailbox = geometry_.mode == PresentMode::mailbox;
  for (;;) {
    // The consumer signals `released` after each slot it frees; a change during the scans below
    // means they may have missed a slot that moved, so they run again.
    const std::uint64_t released_point = shared_->released.point.load(std::memory_order_seq_cst);
    std::uint32_t reading = 0;
    std::array<SlotWord, kMaxSwapSlots> seen{};
    bool moved = false;  // a slot changed between the two scans
    // A free slot first.
    for (std::uint32_t i = 0; i < count; ++i) {
      SharedSlot& slot = shared_->slots[i];
      SlotWord word = slot.word.load(std::memory_order_seq_cst);
      seen[i] = word;
      if (detail::state_of(word) == SlotState::reading) ++reading;
      if (detail::state_of(word) != SlotState::free) continue;
      // SYNC POINT: acquire side of the consumer's release CAS that freed the slot, so its reads
      // of the old pixels happen before our writes (no tearing of the frame it showed).
      const SlotWord mine = with_state(word, SlotState::writing);
      if (slot.word.compare_exchange_strong(word, mine, std::memory_order_seq_cst)) {
        return BackBuffer{i, detail::generation_of(mine), slot_bytes(i), std::nullopt, mine};
      }
    }
    // MAILBOX: take back the oldest queued frame; it will never be shown.
    if (mailbox) {
      std::uint32_t oldest = count;
      std::uint64_t oldest_sequence = 0;
      SlotWord oldest_word = 0;
      for (std::uint32_t i = 0; i < count; ++i) {
        const SlotWord word = shared_->slots[i].word.load(std::memory_order_seq_cst);
        moved = moved || word != seen[i];
        if (detail::state_of(word) != SlotState::queued) continue;
        // Relaxed: only a hint for which to take; the CAS below decides.
        const std::uint64_t sequence = shared_->slots[i].sequence.load(std::memory_order_relaxed);
        if (oldest == count || sequence < oldest_sequence) {
          oldest = i;
          oldest_sequence = sequence;
          oldest_word = word;
        }
      }
      if (oldest != count) {
        SharedSlot& slot = shared_->slots[oldest];
        // Relaxed: we wrote the id ourselves at present; read before the CAS, after which the
        // slot is ours again (the tag in the word makes sure it is the frame we saw).
        const std::uint64_t displaced = slot.frame_id.load(std::memory_order_relaxed);
        const SlotWord mine = with_state(oldest_word, SlotState::writing);
        // SYNC POINT: seq_cst CAS, paired with the consumer's claim CAS on the same word: exactly
        // one of us moves the queued slot, so a frame is either shown or dropped, never both.
        if (slot.word.compare_exchange_strong(oldest_word, mine, std::memory_order_seq_cst)) {
          shared_->counters.dropped.fetch_add(1, std::memory_order_relaxed);
          return BackBuffer{oldest, detail::generation_of(mine), slot_bytes(oldest), displaced,
                            mine};
        }
        continue;
      }
      // The two scans saw different words: a flip moved slots under them (e.g. claimed the one
      // the first scan saw queued and freed the old front after it looked). Look again.
      if (moved) continue;
    }
    if (check_peer()) {
      // The consumer is gone: its slots were just reclaimed; one more pass finds them.
      bool any_free = false;
      for (std::uint32_t i = 0; i < count; ++i) {
        any_free =
            any_free || detail::state_of(shared_->slots[i].word.load(std::memory_order_seq_cst)) ==
                            SlotState::free;
      }
      if (any_free) continue;
      return fail(Errc::closed, "swap chain acquire", "the consumer exited with every slot queued");
    }
    if (shared_->released.point.load(std::memory_order_seq_cst) != released_point) continue;
    const auto now = std::chrono::steady_clock::now();
    // MAILBOX with every slot busy: the consumer holds two (mid-flip) and frees one in a moment.
    const bool flip_in_progress = mailbox && reading >= 2 && now < flip_deadline;
    if (now >= deadline && !flip_in_progress) {
      return fail(Errc::timeout, "swap chain acquire",
                  "no slot was freed in " + std::to_string(timeout.count()) + " ns");
    }
    const auto until = flip_in_progress ? flip_deadline : deadline;
    const auto slice = peer_pidfd_.valid() ? std::min(until, now + detail::kPeerCheckSlice) : until;
    detail::timeline_wait(
        shared_->released,
        [&] {
          if (shared_->released.point.load(std::memory_order_seq_cst) != released_point) {
            return true;
          }
          for (std::uint32_t i = 0; i < count; ++i) {
            const SlotState state =
                detail::state_of(shared_->slots[i].word.load(std::memory_order_seq_cst));
            if (state == SlotState::free || (mailbox && state == SlotState::queued)) return true;
          }
          return false;
        },
        slice);
  }
}

Result<void> SwapChain::present(const BackBuffer& back, std::uint64_t frame_id) {
  if (back.slot >= geometry_.slot_count) {
    return fail(Errc::invalid_argument, "swap chain present",
                "slot " + std::to_string(back.slot) + " out of range");
  }
  SharedSlot& slot = shared_->slots[back.slot];
  const std::uint64_t sequence = shared_->next_sequence.fetch_add(1, std::memory_order_relaxed);
  // Relaxed stores: published by the release half of the CAS below.
  slot.frame_id.store(frame_id, std::memory_order_relaxed);
  slot.sequence.store(sequence, std::memory_order_relaxed);
  slot.present_ns.store(detail::monotonic_ns(), std::memory_order_relaxed);
  // SYNC POINT: release side for the pixels and the fields above, paired with the consumer's
  // claim CAS in flip(); seq_cst also for the timeline's lost-wake-up argument.
  SlotWord expected = back.token;
  const SlotWord queued = detail::slot_word(SlotState::queued, detail::generation_of(back.token),
                                            static_cast<std::uint32_t>(sequence));
  if (detail::state_of(back.token) != SlotState::writing ||
      !slot.word.compare_exchange_strong(expected, queued, std::memory_order_seq_cst)) {
    shared_->counters.stale_presents.fetch_add(1, std::memory_order_relaxed);
    return fail(Errc::rejected, "swap chain present",
                "slot " + std::to_string(back.slot) + " generation " +
                    std::to_string(back.generation) + " is stale (now generation " +
                    std::to_string(detail::generation_of(expected)) +
                    "): it was reclaimed from this producer");
  }
  shared_->counters.presented.fetch_add(1, std::memory_order_relaxed);
  detail::timeline_signal(shared_->presented, presented_fd_.get());
  return {};
}

}  // namespace zc
