// src/xdp/socket_state.hpp: one AF_XDP socket's rings, counters and place in its Umem.
#pragma once

#include <linux/if_xdp.h>
#include <xdp/xsk.h>

#include <cstdint>
#include <string>

#include "umem_state.hpp"
#include "xsk_ring.hpp"
#include "zcopy/xdp/redirect_program.hpp"
#include "zcopy/xdp/socket.hpp"

namespace zc::xdp::detail {

struct SocketState {
  UmemState* umem = nullptr;           // borrowed: outlives the socket
  RedirectProgram* program = nullptr;  // borrowed: outlives the socket
  xsk_socket* handle = nullptr;
  int fd = -1;  // owned by libxdp's handle
  std::uint32_t id = 0;
  std::uint32_t queue = 0;
  BindMode mode = BindMode::skb_copy;
  std::string mode_line;

  // libxdp maps the rings into these and keeps pointers to them until the socket is deleted,
  // so they stay where they are (this state lives on the heap).
  xsk_ring_cons rx_memory{};
  xsk_ring_prod tx_memory{};
  xsk_ring_prod fill_memory{};
  xsk_ring_cons completion_memory{};

  ConsumerRing<xdp_desc> rx;
  ProducerRing<xdp_desc> tx;
  ProducerRing<std::uint64_t> fill;
  ConsumerRing<std::uint64_t> completion;

  std::uint32_t in_tx = 0;  // frames on the tx ring or sent and not reaped
  bool refilled = false;    // the fill ring has been topped up before
  SocketStatistics counted;

  std::uint32_t fill_word() const noexcept { return owner_word(Place::fill, id); }
  std::uint32_t tx_word() const noexcept { return owner_word(Place::tx, id); }
};

// Tops the fill ring up from the UMEM's free frames; how many frames it gave the kernel.
std::uint32_t refill(SocketState& s) noexcept;

template <class Entry, class Ring>
RingMemory<Entry> memory_of(Ring& ring) {
  return {ring.producer, ring.consumer, ring.flags, static_cast<Entry*>(ring.ring), ring.size};
}

}  // namespace zc::xdp::detail
