// SwapChain, the producer's side: acquire a back slot, present it.
#include <algorithm>

#include "frame/swap_chain_shared.hpp"
#include "frame/timeline.hpp"
#include "zcopy/frame/swap_chain.hpp"

namespace zc {

using detail::SharedSlot;
using detail::slot_word;
using detail::SlotState;

Result<BackBuffer> SwapChain::acquire(std::chrono::nanoseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::uint32_t count = geometry_.slot_count;
  const bool mailbox = geometry_.mode == PresentMode::mailbox;
  for (;;) {
    // A free slot first.
    for (std::uint32_t i = 0; i < count; ++i) {
      SharedSlot& slot = shared_->slots[i];
      std::uint32_t word = slot.word.load(std::memory_order_seq_cst);
      if (detail::state_of(word) != SlotState::free) continue;
      const std::uint32_t generation = detail::generation_of(word);
      // SYNC POINT: acquire side of the consumer's release CAS that freed the slot, so its reads
      // of the old pixels happen before our writes (no tearing of the frame it showed).
      if (slot.word.compare_exchange_strong(word, slot_word(SlotState::writing, generation),
                                            std::memory_order_seq_cst)) {
        return BackBuffer{i, generation, slot_bytes(i), std::nullopt};
      }
    }
    // MAILBOX: take back the oldest queued frame; it will never be shown.
    if (mailbox) {
      std::uint32_t oldest = count;
      std::uint64_t oldest_sequence = 0;
      std::uint32_t oldest_word = 0;
      for (std::uint32_t i = 0; i < count; ++i) {
        const std::uint32_t word = shared_->slots[i].word.load(std::memory_order_seq_cst);
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
        const std::uint32_t generation = detail::generation_of(oldest_word);
        // SYNC POINT: seq_cst CAS, paired with the consumer's claim CAS on the same word: exactly
        // one of us moves the queued slot, so a frame is either shown or dropped, never both.
        if (slot.word.compare_exchange_strong(oldest_word,
                                              slot_word(SlotState::writing, generation),
                                              std::memory_order_seq_cst)) {
          // Relaxed: we wrote the id ourselves at present, and hold the slot again.
          const std::uint64_t displaced = slot.frame_id.load(std::memory_order_relaxed);
          shared_->counters.dropped.fetch_add(1, std::memory_order_relaxed);
          return BackBuffer{oldest, generation, slot_bytes(oldest), displaced};
        }
        continue;
      }
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
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      return fail(Errc::timeout, "swap chain acquire",
                  "no slot was freed in " + std::to_string(timeout.count()) + " ns");
    }
    const auto slice =
        peer_pidfd_.valid() ? std::min(deadline, now + detail::kPeerCheckSlice) : deadline;
    detail::timeline_wait(
        shared_->released,
        [&] {
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
  // Relaxed stores: published by the release half of the CAS below.
  slot.frame_id.store(frame_id, std::memory_order_relaxed);
  slot.sequence.store(shared_->next_sequence.fetch_add(1, std::memory_order_relaxed),
                      std::memory_order_relaxed);
  slot.present_ns.store(detail::monotonic_ns(), std::memory_order_relaxed);
  std::uint32_t expected = slot_word(SlotState::writing, back.generation);
  // SYNC POINT: release side for the pixels and the fields above, paired with the consumer's
  // claim CAS in flip(); seq_cst also for the timeline's lost-wake-up argument.
  if (!slot.word.compare_exchange_strong(expected, slot_word(SlotState::queued, back.generation),
                                         std::memory_order_seq_cst)) {
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
