// zcopy/xdp/umem.hpp: the memory AF_XDP sockets receive into and send from, carved from a pinned
// BufferPool.
//
// The UMEM is the chunk area of a BufferPool whose chunks are 4 KiB frames: registered with the
// kernel once, locked in RAM (pinned) so the kernel's copies never fault, and backed by 2 MiB
// huge pages where the machine has shmem THP. Every frame is always in exactly one place:
//
//   free (in the pool) --refill--> a fill ring --kernel writes a packet--> rx ring
//        ^                                                                   |
//        |                                        Socket::receive(): a Frame held by the app
//        |                                                 |                  |
//        +-------- dropped ----------------------------------+     Socket::send(): a tx ring
//        +-------- completion ring (the kernel sent it) <-----------------------+
//
// Each frame's place (and, in a ring, which socket's) is recorded in an atomic word, so a
// descriptor that names a frame the kernel does not hold for that socket is counted and never
// followed. Several sockets, on different interfaces or queues, may share one Umem: a frame
// received on one can be sent on another without a copy.
//
//   auto umem = zc::xdp::Umem::create({.frame_count = 4096});
//   auto program = zc::xdp::RedirectProgram::attach("eth0");
//   auto socket = zc::xdp::Socket::open(*umem, *program, {.queue = 0});
//
// Synchronization: allocate(), statistics() and dropping Frames may happen on any thread.
// Sockets on one Umem may each be driven by a thread of their own; opening and closing them is
// serialized internally.
//
// Lifetime: every Socket and Frame of a Umem must be gone before the Umem is destroyed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "zcopy/core/error.hpp"
#include "zcopy/mem/buffer_pool.hpp"
#include "zcopy/xdp/frame.hpp"

namespace zc::xdp {

enum class HugePages {
  never,
  when_available,  // 2 MiB pages if shmem THP allows them, else 4 KiB pages (describe() says)
  required,        // Errc::capability_missing without them
};

struct UmemOptions {
  std::uint32_t frame_count = 4096;  // frames of kFrameSize bytes
  // Entries of each socket's fill and completion rings (powers of two). The fill ring holds the
  // frames the kernel may receive into; frames beyond it are for the application and for tx.
  std::uint32_t fill_ring_size = 2048;
  std::uint32_t completion_ring_size = 2048;
  HugePages huge_pages = HugePages::when_available;
  std::string name = "zcopy-umem";  // the memfd's name, shown in /proc/PID/maps
};

// Where a UMEM's frames are right now (a snapshot; exact only when the sockets are quiet).
struct UmemStatistics {
  std::uint32_t frame_count = 0;
  std::uint32_t free = 0;         // in the pool
  std::uint32_t in_fill = 0;      // given to the kernel to receive into
  std::uint32_t held = 0;         // Frames the application holds
  std::uint32_t in_tx = 0;        // queued for sending, not completed yet
  std::uint64_t bad_returns = 0;  // frames returned from a place they were not in (a bug)
};

class Umem {
 public:
  static constexpr std::uint32_t kFrameSize = 4096;

  static Result<Umem> create(const UmemOptions& options = {});
  // The UMEM on `pool`, which must be pinned, have power-of-two chunks between 2 KiB and a page,
  // and have nothing on loan.
  static Result<Umem> adopt(BufferPool pool, const UmemOptions& options = {});

  Umem(Umem&&) noexcept;
  Umem& operator=(Umem&&) noexcept;
  Umem(const Umem&) = delete;
  Umem& operator=(const Umem&) = delete;
  ~Umem();

  // A free frame to write a packet into and send; Errc::exhausted when every frame is in use.
  Result<Frame> allocate();

  UmemStatistics statistics() const noexcept;
  std::uint32_t frame_count() const noexcept;
  std::uint32_t frame_size() const noexcept;
  bool huge_pages() const noexcept;
  // "16.0 MiB UMEM: 4096 frames of 4 KiB, pinned, 4 KiB pages (huge pages: ...)".
  std::string describe() const;

 private:
  friend class Socket;
  explicit Umem(std::unique_ptr<detail::UmemState> state) noexcept;

  // On the heap: Frames and Sockets point to it, and it must not move with the Umem.
  std::unique_ptr<detail::UmemState> state_;
};

}  // namespace zc::xdp
