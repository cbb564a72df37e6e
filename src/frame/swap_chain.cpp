// SwapChain: creating, sharing and attaching the region, peer watching, reclaiming and stats.
#include "zcopy/frame/swap_chain.hpp"

#include <cstring>
#include <new>
#include <utility>

#include "frame/swap_chain_shared.hpp"
#include "frame/timeline.hpp"
#include "zcopy/core/wake.hpp"

namespace zc {

using detail::SharedSlot;
using detail::SlotState;

SwapChain::SwapChain(Region region, SwapChainGeometry geometry, Fd presented, Fd released)
    : region_(std::move(region)),
      geometry_(geometry),
      shared_(std::launder(reinterpret_cast<detail::SwapChainShared*>(region_.data()))),
      presented_fd_(std::move(presented)),
      released_fd_(std::move(released)) {}

SwapChain::SwapChain(SwapChain&&) noexcept = default;
SwapChain& SwapChain::operator=(SwapChain&&) noexcept = default;
SwapChain::~SwapChain() = default;

Result<SwapChain> SwapChain::create(const SwapChainOptions& options) {
  auto geometry = plan_swap_chain(options.width, options.height, options.bytes_per_pixel,
                                  options.slot_count, options.mode);
  if (!geometry) return std::unexpected(std::move(geometry.error()));
  auto region =
      Region::create_shared(geometry->total_bytes, {.name = options.name, .pin = options.pin});
  if (!region) return std::unexpected(std::move(region.error()).with_context("swap chain"));
  auto presented = make_eventfd();
  if (!presented) return std::unexpected(std::move(presented.error()));
  auto released = make_eventfd();
  if (!released) return std::unexpected(std::move(released.error()));

  // A fresh memfd reads as zeros: every slot is free in generation 0. Construct the control
  // words in place, then fill the header that attach() validates.
  auto* shared = ::new (static_cast<void*>(region->data())) detail::SwapChainShared{};
  const SwapChainGeometry& g = *geometry;
  shared->header = detail::SwapChainHeader{
      .magic = detail::kSwapChainMagic,
      .version = detail::kSwapChainVersion,
      .slot_count = g.slot_count,
      .width = g.width,
      .height = g.height,
      .bytes_per_pixel = g.bytes_per_pixel,
      .row_bytes = g.row_bytes,
      .mode = static_cast<std::uint32_t>(g.mode),
      .reserved = 0,
      .slot_bytes = g.slot_bytes,
      .slot_stride = g.slot_stride,
      .slots_offset = g.slots_offset,
      .total_bytes = g.total_bytes,
  };
  return SwapChain(std::move(*region), g, std::move(*presented), std::move(*released));
}

Result<SwapChain> SwapChain::attach(SwapChainHandles handles, bool pin) {
  auto region = Region::attach(std::move(handles.memory), Access::read_write);
  if (!region) return std::unexpected(std::move(region.error()).with_context("attach swap chain"));
  auto geometry = validate_swap_chain_header(region->bytes());
  if (!geometry) {
    return std::unexpected(std::move(geometry.error()).with_context("attach swap chain"));
  }
  if (pin) {
    if (auto pinned = region->pin(); !pinned) return std::unexpected(std::move(pinned.error()));
  }
  return SwapChain(std::move(*region), *geometry, std::move(handles.presented),
                   std::move(handles.released));
}

Result<SwapChainHandles> SwapChain::share() {
  auto memory = region_.share(Access::read_write);
  if (!memory) return std::unexpected(std::move(memory.error()));
  auto presented = presented_fd_.duplicate();
  if (!presented) return std::unexpected(std::move(presented.error()));
  auto released = released_fd_.duplicate();
  if (!released) return std::unexpected(std::move(released.error()));
  return SwapChainHandles{std::move(*memory), std::move(*presented), std::move(*released)};
}

std::span<std::byte> SwapChain::slot_bytes(std::uint32_t slot) noexcept {
  if (slot >= geometry_.slot_count) return {};
  return region_.bytes().subspan(geometry_.offset_of(slot), geometry_.slot_bytes);
}

int SwapChain::wait_fd(SwapRole role) noexcept {
  detail::SharedTimeline& timeline =
      role == SwapRole::consumer ? shared_->presented : shared_->released;
  // Relaxed: the signaller re-reads it on every signal; a signal racing with this store may
  // not write the eventfd, which is why the caller checks the shared state once after this.
  timeline.polled.store(1, std::memory_order_relaxed);
  return role == SwapRole::consumer ? presented_fd_.get() : released_fd_.get();
}

Result<void> SwapChain::watch_peer(pid_t pid, SwapRole peer_role) {
  auto pidfd = open_pidfd(pid);
  if (!pidfd)
    return std::unexpected(std::move(pidfd.error()).with_context("watch swap chain peer"));
  peer_pidfd_ = std::move(*pidfd);
  peer_role_ = peer_role;
  peer_gone_ = false;
  return {};
}

bool SwapChain::check_peer() {
  if (peer_gone_) return true;
  if (!peer_pidfd_.valid() || !pidfd_exited(peer_pidfd_.get())) return false;
  peer_gone_ = true;
  reclaim_from(peer_role_);
  return true;
}

std::uint32_t SwapChain::reclaim_from(SwapRole dead) noexcept {
  const SlotState held = dead == SwapRole::producer ? SlotState::writing : SlotState::reading;
  std::uint32_t moved = 0;
  for (std::uint32_t i = 0; i < geometry_.slot_count; ++i) {
    SharedSlot& slot = shared_->slots[i];
    detail::SlotWord word = slot.word.load(std::memory_order_seq_cst);
    // seq_cst CAS: a state change that timeline_signal() below publishes (see timeline.cpp).
    while (detail::state_of(word) == held &&
           !slot.word.compare_exchange_weak(
               word,
               detail::slot_word(SlotState::free, detail::generation_of(word) + 1,
                                 detail::tag_of(word)),
               std::memory_order_seq_cst)) {
    }
    if (detail::state_of(word) == held) ++moved;
  }
  if (dead == SwapRole::consumer) {
    // Relaxed: the front index is for inspection only; nobody reads pixels through it.
    shared_->front.store(detail::kNoFront, std::memory_order_relaxed);
  }
  if (moved > 0) {
    shared_->counters.reclaimed.fetch_add(moved, std::memory_order_relaxed);
    detail::timeline_signal(shared_->released, released_fd_.get());
    detail::timeline_signal(shared_->presented, presented_fd_.get());
  }
  return moved;
}

SwapChainStats SwapChain::stats() const noexcept {
  // Relaxed: counters are statistics, exact only when both sides are quiet.
  const detail::SharedCounters& c = shared_->counters;
  return SwapChainStats{
      .presented = c.presented.load(std::memory_order_relaxed),
      .shown = c.shown.load(std::memory_order_relaxed),
      .dropped = c.dropped.load(std::memory_order_relaxed),
      .repeats = c.repeats.load(std::memory_order_relaxed),
      .stale_presents = c.stale_presents.load(std::memory_order_relaxed),
      .reclaimed = c.reclaimed.load(std::memory_order_relaxed),
  };
}

std::array<SlotPhase, kMaxSwapSlots> SwapChain::slot_states() const noexcept {
  std::array<SlotPhase, kMaxSwapSlots> phases{};
  for (std::uint32_t i = 0; i < geometry_.slot_count; ++i) {
    // Acquire: a snapshot; pairs with nothing in particular, but never reads a torn word.
    const detail::SlotWord word = shared_->slots[i].word.load(std::memory_order_acquire);
    phases[i] = static_cast<SlotPhase>(word & detail::kStateMask);
  }
  return phases;
}

}  // namespace zc
