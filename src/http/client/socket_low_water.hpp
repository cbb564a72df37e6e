// src/http/client/socket_low_water.hpp: wakes a body's reader only once a batch of bytes has
// arrived (SO_RCVLOWAT), for as long as the body will surely still bring that many.
//
// A TLS body is read many records per system call. A reader that wakes for every few segments
// reads a few records at a time, and each round costs a poll, a read, a write and a window
// update; with a low-water mark of one batch, a round moves a batch (measured: fewer CPU seconds
// per GB). The mark falls back to one byte near the body's end, where what is left may be less
// than a batch and waiting for it would never end, and for good once a wait slice passes without
// a batch: a slow server's bytes must be seen as they come, for the progress shown and the stall
// rule. The destructor puts it back to one byte, as the connection may carry another request.
//
//   SocketLowWater low_water(fd, 1 << 20);
//   low_water.before_wait(body_left);   // then poll()
//   if (nothing_came) low_water.slice_passed();
//
// Best effort: a mark the kernel refuses only costs batching, never data. Borrows the socket.
#pragma once

#include <cstdint>

namespace zc::http::detail {

class SocketLowWater {
 public:
  SocketLowWater(int socket, std::uint64_t batch) noexcept;
  ~SocketLowWater();
  SocketLowWater(const SocketLowWater&) = delete;
  SocketLowWater& operator=(const SocketLowWater&) = delete;

  // Before a wait: `body_left` bytes of the body are still to be handed out, up to one record of
  // which may already sit in the reader's buffer; the socket will bring at least the rest.
  void before_wait(std::uint64_t body_left) noexcept;
  // A wait slice ended without a batch: from now on every byte wakes the reader.
  void slice_passed() noexcept;

 private:
  void set(int bytes) noexcept;

  int socket_;
  int batch_;
  int current_ = 1;
  bool off_ = false;
};

}  // namespace zc::http::detail
