// zcopy/frame/swap_chain.hpp: frames handed from a producer process to a consumer (compositor)
// process through 2-4 shared slots, by index, never copied.
//
//   // Producer
//   auto chain = zc::SwapChain::create({.width = 1920, .height = 1080, .mode =
//   zc::PresentMode::mailbox}); auto handles = chain->share();                   // pass the three
//   fds to the compositor auto back = chain->acquire(std::chrono::milliseconds(100));
//   render(back->bytes);                             // straight into shared memory
//   chain->present(*back, frame_id);
//   // Compositor, in another process, at each refresh tick (FrameTicker)
//   auto peer = zc::SwapChain::attach(std::move(received_handles));
//   zc::Result<zc::FlipResult> flip = peer->flip();  // the newest (MAILBOX) or next (FIFO) frame
//   scan_out(peer->front_bytes());                   // stays valid until the next flip
//
// Slots. Each slot has a state word (free -> writing -> queued -> reading -> free) holding a
// generation in its upper bits, a 64-bit frame id, a present sequence and a present time. The
// producer owns a slot while it is `writing`, the consumer while it is `reading` (the front); a
// `queued` slot belongs to the chain. Every move is a compare-and-swap on the word, so a side can
// only move a slot it holds, in the generation it holds it in.
//
// Timelines. Two 64-bit points that only grow, in the manner of DRM syncobj timelines: `presented`
// (signalled by each present) and `released` (each slot the consumer frees). A side that must wait
// sleeps on the timeline's futex; a side that runs an epoll loop takes wait_fd() instead, an
// eventfd the other side writes after each signal once it has been asked for.
//
// Peer death. watch_peer() takes the peer's pid; when its pidfd fires, the slots it held are
// reclaimed: moved to free with their generation bumped. A present from a stale generation (a side
// that was declared dead) fails with Errc::rejected and is counted.
//
// Synchronization. One thread (in one process) calls the producer functions (acquire, present),
// one thread the consumer functions (flip, front_bytes, wait_presented). stats() and
// slot_states() may be called by anyone and are snapshots. Pixels written before present() are
// visible to the consumer after its flip() claims the slot (the present CAS releases them, the
// claim CAS acquires), and the consumer's reads of a front happen before the producer's next
// write to that slot (the release CAS when the consumer frees it, the acquire CAS in acquire()).
//
// Trust. attach() validates the header (validate_swap_chain_header); every index read from shared
// memory is range-checked, so a corrupt peer can break frames but not make this process touch
// memory outside the region.
#pragma once

#include <sys/types.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "zcopy/core/error.hpp"
#include "zcopy/core/fd.hpp"
#include "zcopy/frame/swap_chain_layout.hpp"
#include "zcopy/mem/region.hpp"

namespace zc {

struct SwapChainOptions {
  std::uint32_t width = 1920;
  std::uint32_t height = 1080;
  std::uint32_t bytes_per_pixel = 4;
  std::uint32_t slot_count = 3;
  PresentMode mode = PresentMode::mailbox;
  // Lock and pre-fault the slots (Region::pin): no page fault while rendering or scanning out.
  bool pin = false;
  std::string name = "zcopy-frames";
};

// What a peer needs to attach: the sealed memfd and the two eventfds.
struct SwapChainHandles {
  Fd memory;
  Fd presented;  // written after presents: the consumer's wait_fd()
  Fd released;   // written after releases: the producer's wait_fd()
};

enum class SwapRole : std::uint8_t { producer, consumer };

// A slot the producer holds for writing.
struct BackBuffer {
  std::uint32_t slot = 0;
  std::uint32_t generation = 0;
  std::span<std::byte> bytes;
  // MAILBOX: the queued frame this acquire took back, never to be shown (its "dropped" event).
  std::optional<std::uint64_t> displaced_frame;
  std::uint64_t token = 0;  // the slot's state word as acquired, which present() expects
};

struct FlipResult {
  bool flipped = false;  // false: nothing new was presented, the old front repeats
  std::uint64_t frame_id = 0;
  std::uint32_t slot = 0;
  std::chrono::nanoseconds latency{0};  // present to flip
  // Frames that were queued behind the one shown and dropped by this flip (MAILBOX).
  std::uint32_t dropped_count = 0;
  std::array<std::uint64_t, kMaxSwapSlots> dropped{};
};

struct SwapChainStats {
  std::uint64_t presented = 0;
  std::uint64_t shown = 0;
  std::uint64_t dropped = 0;  // by either side
  std::uint64_t repeats = 0;  // flips that found nothing new
  std::uint64_t stale_presents = 0;
  std::uint64_t reclaimed = 0;  // slots taken back from a dead side
};

enum class SlotPhase : std::uint8_t { free, writing, queued, reading };

namespace detail {
struct SwapChainShared;
}

class SwapChain {
 public:
  static Result<SwapChain> create(const SwapChainOptions& options);
  // Joins a chain another process created, after validating its header.
  static Result<SwapChain> attach(SwapChainHandles handles, bool pin = false);

  SwapChain(SwapChain&&) noexcept;
  SwapChain& operator=(SwapChain&&) noexcept;
  SwapChain(const SwapChain&) = delete;
  SwapChain& operator=(const SwapChain&) = delete;
  ~SwapChain();

  // New descriptors for a peer to attach() with.
  Result<SwapChainHandles> share();

  // Producer. A back slot to render into. FIFO waits up to `timeout` for the consumer to free
  // one (Errc::timeout); MAILBOX takes back the oldest queued frame instead and never waits
  // longer than a flip in progress. Errc::closed when the watched consumer exited and no slot is
  // left. Only one slot at a time: call present() before the next acquire().
  Result<BackBuffer> acquire(std::chrono::nanoseconds timeout);
  // Queues the slot as frame `frame_id`. Errc::rejected (counted) when the slot was reclaimed
  // meanwhile: its generation is stale.
  Result<void> present(const BackBuffer& back, std::uint64_t frame_id);

  // Consumer, at each tick: claims the newest (MAILBOX) or oldest (FIFO) queued frame as the new
  // front and frees the old one. Never blocks.
  Result<FlipResult> flip();
  // The front frame's bytes; empty before the first flip. Valid until the next flip().
  std::span<const std::byte> front_bytes() const noexcept;
  // Sleeps until a frame is queued or `deadline`; false at the deadline. For a consumer without a
  // refresh tick. Errc::closed when the watched producer exited and nothing is queued.
  Result<bool> wait_presented(std::chrono::steady_clock::time_point deadline);

  // This side's eventfd (the consumer's for presents, the producer's for releases), readable
  // after the other side signals; from the first call on, the other side writes it.
  int wait_fd(SwapRole role) noexcept;

  // Watches `pid`, the process on the other side (`peer_role`). Its death is noticed in
  // acquire(), flip(), wait_presented() and check_peer().
  Result<void> watch_peer(pid_t pid, SwapRole peer_role);
  // True when the watched peer exited; its slots are then reclaimed (once).
  bool check_peer();
  // Moves every slot `dead` holds to free with a bumped generation; the number moved.
  std::uint32_t reclaim_from(SwapRole dead) noexcept;

  SwapChainStats stats() const noexcept;
  std::array<SlotPhase, kMaxSwapSlots> slot_states() const noexcept;
  const SwapChainGeometry& geometry() const noexcept { return geometry_; }
  std::span<std::byte> slot_bytes(std::uint32_t slot) noexcept;
  const Region& region() const noexcept { return region_; }
  Region& region() noexcept { return region_; }

 private:
  SwapChain(Region region, SwapChainGeometry geometry, Fd presented, Fd released);

  Region region_;
  SwapChainGeometry geometry_;
  detail::SwapChainShared* shared_ = nullptr;  // page 0 of region_
  Fd presented_fd_;
  Fd released_fd_;
  Fd peer_pidfd_;
  SwapRole peer_role_ = SwapRole::consumer;
  bool peer_gone_ = false;
  // Consumer only: the slot it shows and the word it holds it with.
  std::uint32_t front_slot_ = 0;
  std::uint64_t front_word_ = 0;
  bool has_front_ = false;
};

}  // namespace zc
