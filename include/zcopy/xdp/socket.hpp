// zcopy/xdp/socket.hpp: an AF_XDP socket on one queue of one interface, receiving into and
// sending from a shared Umem.
//
//   auto umem = zc::xdp::Umem::create();
//   auto program = zc::xdp::RedirectProgram::attach("eth0");
//   auto socket = zc::xdp::Socket::open(*umem, *program, {.queue = 0});
//   std::puts(socket->mode_line().c_str());   // "eth0 queue 0: native copy mode (zero-copy ...)"
//   std::array<zc::xdp::Frame, 64> batch;
//   for (;;) {
//     socket->wait(std::chrono::milliseconds(100));
//     const std::size_t n = socket->receive(batch);
//     socket->send(std::span(batch).first(n));     // echo them back: no byte copied by us
//   }
//
// Binding. The first socket on a Umem decides, for all of them, between zero-copy and copy (a
// kernel rule): with ModeChoice::automatic and a driver-mode program it asks for zero-copy first
// and binds in copy mode when the driver refuses, saying why in mode_line(). Sockets bind with
// XDP_USE_NEED_WAKEUP, so the kernel is entered only when it asks.
//
// Rings. receive() reaps the completion ring, reads the rx ring, and tops the fill ring up from
// the Umem's free frames; send() puts frames on the tx ring and wakes the kernel. Each
// descriptor the kernel (or anyone who mapped the rings) wrote is checked against the Umem before
// it is followed; a bad one is counted in statistics() and skipped.
//
// Synchronization: a Socket is driven by one thread at a time. Frames it hands out may travel to
// other threads. Several sockets on one Umem may run on threads of their own.
//
// Lifetime: the Umem and the RedirectProgram must outlive the socket. Frames the kernel holds for
// the socket (in its fill, rx or tx rings) return to the Umem when it closes.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "zcopy/core/error.hpp"
#include "zcopy/xdp/bind_mode.hpp"
#include "zcopy/xdp/frame.hpp"
#include "zcopy/xdp/redirect_program.hpp"
#include "zcopy/xdp/socket_statistics.hpp"
#include "zcopy/xdp/umem.hpp"

namespace zc::xdp {

namespace detail {
struct SocketState;
}

struct SocketOptions {
  std::uint32_t queue = 0;
  std::uint32_t rx_ring_size = 2048;  // powers of two
  std::uint32_t tx_ring_size = 2048;
  ModeChoice mode = ModeChoice::automatic;
};

class Socket {
 public:
  static Result<Socket> open(Umem& umem, RedirectProgram& program,
                             const SocketOptions& options = {});

  Socket(Socket&&) noexcept;
  Socket& operator=(Socket&&) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket();

  BindMode mode() const noexcept;
  // One line: interface, queue, mode, and why not a faster mode.
  const std::string& mode_line() const noexcept;
  std::uint32_t queue() const noexcept;
  int fd() const noexcept;  // for poll/epoll: readable when the rx ring has packets

  // Up to out.size() received packets, written into `out` from the front (frames already there
  // are dropped first); 0 when none is waiting. Never blocks.
  std::size_t receive(std::span<Frame> out);
  // Waits until the rx ring has something or `timeout` passes; true when something arrived.
  Result<bool> wait(std::chrono::milliseconds timeout);

  // Puts frames of this socket's Umem on the tx ring, from the front, as many as fit, and wakes
  // the kernel to send them. Each frame taken is left empty (its ownership moved to the ring);
  // those that did not fit stay with the caller. Errc::invalid_argument for a frame of another
  // Umem.
  Result<std::size_t> send(std::span<Frame> frames);
  // Wakes the kernel to send what is still on the tx ring (copy mode sends a few dozen per call).
  Result<void> flush();
  // Reaps the completion ring: frames the kernel finished sending return to the Umem.
  std::size_t complete();
  // Frames on the tx ring or sent and not reaped yet.
  std::uint32_t tx_in_flight() const noexcept;

  SocketStatistics statistics() const;

 private:
  explicit Socket(std::unique_ptr<detail::SocketState> state) noexcept;
  std::unique_ptr<detail::SocketState> state_;
};

}  // namespace zc::xdp
