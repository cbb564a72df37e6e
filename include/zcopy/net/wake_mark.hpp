// zcopy/net/wake_mark.hpp: the socket's receive low-water mark (SO_RCVLOWAT) while a body arrives.
//
// A link that delivers a few packets at a time (a token-bucket shaper, a distant or slow server)
// wakes a blocked reader for every burst: a context switch and a read (two splices on the splice
// path) per few KiB, which at tens of MB/s is most of the receiver's CPU. With the mark raised,
// the kernel wakes the reader only once kWakeBytes (or the caller's batch) wait in the socket, or
// the rest of the body when less: every byte still arrives, in fewer and larger reads. A TLS
// reader, which may hold part of a record already, passes as done what it holds plus one record.
//
// What still wakes the reader at once: the peer's FIN or an error. A receive timeout
// (SO_RCVTIMEO) ends a slice with whatever arrived below the mark, so a slow peer's bytes still
// count for the stall rule. Bytes already waiting are spliced at once, whatever the mark.
//
// recv() is different: it counts the bytes it has copied towards the mark, while the kernel wakes
// it only for bytes that arrive after them, so a recv() that copies part of a body's last bytes
// and then sleeps would wait for more than the peer will send. A copying reader therefore waits
// in wait() (poll, which wakes at the mark) and then takes what is there without blocking.
//
//   WakeMark mark(socket, length);       // one per body
//   while (...) { mark.before_read(done); splice(...); }
//   // a reader that polls in slices: mark.lower_for_good() after a slice that brought no batch
//   // back to 1 on destruction: a kept-alive connection peeks at its next head without waiting
//
// Failing to set the mark only costs wake-ups, so a refusal is ignored.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>

#include "zcopy/core/error.hpp"

namespace zc::net {

class WakeMark {
 public:
  // Big enough that a wake-up moves a useful amount, small enough against the receive buffer
  // (the kernel grows it to twice the mark) that the sender is never held back by it.
  static constexpr std::uint64_t kWakeBytes = 256 * 1024;
  // A body this small arrives in a burst or two; setting and restoring the mark would cost more.
  static constexpr std::uint64_t kWorthBytes = 64 * 1024;

  // `length`: the body's size in bytes, empty when it ends with the connection; `wake_bytes`: the
  // batch a wake-up should bring.
  WakeMark(int socket, std::optional<std::uint64_t> length, std::uint64_t wake_bytes = kWakeBytes)
      : socket_(socket),
        length_(length),
        wake_bytes_(std::clamp<std::uint64_t>(wake_bytes, 1, 1 << 30)) {}
  ~WakeMark();
  WakeMark(const WakeMark&) = delete;
  WakeMark& operator=(const WakeMark&) = delete;

  // Before each read, with `done` bytes of the body read: the mark is at most what is left.
  void before_read(std::uint64_t done);
  // A wait slice passed without a batch: a peer this slow wakes the reader for every byte from
  // now on, so what it sends is seen as it comes (progress, the stall rule).
  void lower_for_good();
  // True while the mark is above 1 (a body worth it).
  bool raised() const noexcept { return mark_ > 1; }
  // Until the mark is reached, the peer closed or failed, or the socket's receive timeout passed
  // (then what arrived below the mark is the slice's).
  Result<void> wait();

 private:
  void set(std::uint64_t bytes);

  int socket_;
  std::optional<std::uint64_t> length_;
  std::uint64_t wake_bytes_;
  bool lowered_for_good_ = false;
  std::uint64_t mark_ = 1;       // what the socket has now; 1 is the kernel's default
  std::optional<int> slice_ms_;  // SO_RCVTIMEO for poll(2), -1 for none; read on first wait()
};

}  // namespace zc::net
