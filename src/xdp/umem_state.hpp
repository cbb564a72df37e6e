// src/xdp/umem_state.hpp: what a Umem shares with its Frames and Sockets: the memory, libxdp's
// registration, and the owner word of every frame.
#pragma once

#include <xdp/xsk.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "zcopy/mem/buffer_pool.hpp"
#include "zcopy/xdp/umem.hpp"

namespace zc::xdp::detail {

// Where a frame is: the low byte of its owner word. A ring place also names the socket, in the
// upper 24 bits, so a descriptor can be checked against the very socket it came from.
enum class Place : std::uint32_t { pool = 0, fill = 1, application = 2, tx = 3 };

constexpr std::uint32_t owner_word(Place place, std::uint32_t socket = 0) noexcept {
  return (socket << 8) | static_cast<std::uint32_t>(place);
}
constexpr Place place_of(std::uint32_t word) noexcept {
  return static_cast<Place>(word & 0xff);
}

// A socket open on the UMEM: which interface queue it serves.
struct OpenSocket {
  std::uint32_t id = 0;
  int ifindex = 0;
  std::uint32_t queue = 0;
};

struct UmemState {
  explicit UmemState(BufferPool frames) : pool(std::move(frames)) {}
  ~UmemState();
  UmemState(const UmemState&) = delete;
  UmemState& operator=(const UmemState&) = delete;

  BufferPool pool;            // chunk i is frame i; free frames are the pool's free chunks
  std::byte* area = nullptr;  // frame 0: UMEM address 0
  std::uint64_t area_bytes = 0;
  std::uint32_t frame_count = 0;
  std::uint32_t frame_size = 0;
  std::uint32_t frame_shift = 0;
  UmemOptions options;
  std::string pages;  // "2 MiB huge pages", or "4 KiB pages (huge pages: why not)"

  // libxdp's registration. Its fill and completion rings, mapped on the UMEM's own socket, go to
  // the first socket; later sockets get rings of their own.
  xsk_umem* handle = nullptr;
  xsk_ring_prod first_fill{};
  xsk_ring_cons first_completion{};

  // One word per frame (owner_word()). Every transition is a compare-and-swap from the place the
  // frame must be in, so no frame is ever in two places, whatever a ring claims.
  std::unique_ptr<std::atomic<std::uint32_t>[]> owners;
  std::atomic<std::uint32_t> held{0};         // frames in Frame handles; a relaxed gauge
  std::atomic<std::uint64_t> bad_returns{0};  // our own bookkeeping contradicted; never expected

  // Serializes opening and closing sockets (libxdp's bookkeeping of a UMEM is not thread-safe);
  // protects the members below it.
  std::mutex sockets_lock;
  std::vector<OpenSocket> sockets;
  std::uint32_t next_socket_id = 1;
  bool first_rings_taken = false;  // the first socket took first_fill/first_completion
  bool zero_copy = false;          // how the sockets are bound (the first bind decides)

  std::byte* bytes_at(std::uint64_t address) const noexcept { return area + address; }
  std::uint32_t frame_of(std::uint64_t address) const noexcept {
    return static_cast<std::uint32_t>(address >> frame_shift);
  }
  std::uint64_t base_of(std::uint32_t frame) const noexcept {
    return std::uint64_t{frame} << frame_shift;
  }

  // Moves `frame` from owner word `from` to `to`; false, and nothing changes, when it was not
  // at `from`.
  bool move(std::uint32_t frame, std::uint32_t from, std::uint32_t to) noexcept;
  // A free frame from the pool, now at `to`; nullopt when none is free.
  std::optional<std::uint32_t> take_free(std::uint32_t to) noexcept;
  // Returns `frame`, which must be at `from`, to the pool; false, and nothing changes, when it
  // was not (the caller decides whether that is a bug or a bad descriptor).
  bool give_back(std::uint32_t frame, std::uint32_t from) noexcept;
};

}  // namespace zc::xdp::detail
