// zcopy/net/zerocopy_sender.hpp: send from the caller's memory without a CPU copy, and say when
// that memory may be reused.
//
// A zero-copy send hands the kernel references to the caller's pages; they stay in use until the
// device is done with them (for TCP, until the peer acknowledged the data). So send() returns a
// ticket, and the buffer may be written again only once the ticket is complete: the optional
// release function runs at that moment, exactly once, from inside a later send(), poll(), wait()
// or flush() on the same thread. send() looks for completions along the way (by MSG_ZEROCOPY once
// per 256 KiB it sent, since each look is a system call); poll() looks at once.
//
//   auto sender = zc::net::ZeroCopySender::create(socket.get(), {.method = SendMethod::automatic});
//   auto ticket = sender->send(buffer, [&] { pool.give_back(index); });
//   ...
//   sender->flush();                        // every buffer released, or Errc::timeout
//
// Methods. msg_zerocopy is sendmsg(MSG_ZEROCOPY) with completions read from the socket's error
// queue; uring_zc is io_uring SEND_ZC / SENDMSG_ZC, with buffers inside a registered region sent
// as fixed buffers; copy is a plain send(). automatic sends zero-copy the cheapest way it has:
// SEND_ZC once the caller registered buffers (register_buffer) and the kernel has it, otherwise
// MSG_ZEROCOPY.
//
// Policy (automatic). A send smaller than zerocopy_threshold is copied: on a device, below some
// size the page pinning and the notification cost more than the copy. The first send goes
// zero-copy whatever its size, as a probe. When notifications report that the kernel copied
// anyway (loopback, veth and every local delivery do), the sender does not assume copying is then
// better (on loopback that depends on the size: docs/PERFORMANCE.md): it measures, at the sizes
// the socket sends, and the threshold no longer applies.
// It takes turns among the methods it has in epochs of trial_epoch_bytes, times each, keeps the
// fastest (or, among about equally fast ones, the one that cost the sending thread the least
// CPU), goes over to the next when the one kept slows down, says which and why in stats(), and
// measures again after trial_recheck_bytes (doubling, up to 16 times, while rechecks agree). A
// forced method with switch_when_copied switches to copying at the first copied notification
// instead. ENOBUFS from a zero-copy send (the socket's optmem or the locked-memory limit) drains
// notifications and retries, then sends that buffer by copying; it never fails the transfer.
// Outstanding bytes are bounded by max_outstanding_bytes: a sender past it waits for completions,
// and a wait longer than `timeout` (a peer that stopped reading, a lost device) returns
// Errc::timeout instead of blocking forever.
//
// UDP: give a connected UDP socket and set udp_segment to send each buffer as one GSO batch of
// datagrams of that size (UDP_SEGMENT).
//
// Not thread-safe: one thread owns a sender. The socket is borrowed and must outlive it.
#pragma once

#include <sys/uio.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "zcopy/core/error.hpp"

namespace zc::net {

enum class SendMethod : std::uint8_t { automatic, msg_zerocopy, uring_zc, copy };

// "auto", "zerocopy", "uring-zc", "copy".
std::string_view to_string(SendMethod method) noexcept;
std::optional<SendMethod> send_method_from_name(std::string_view name) noexcept;

struct SenderOptions {
  SendMethod method = SendMethod::automatic;
  // Sends below this size are copied even by zero-copy methods (0: never). Measured into the
  // transmit sink (docs/PERFORMANCE.md): MSG_ZEROCOPY costs more CPU than a copy at 8 KiB and
  // less from 12 KiB; SEND_ZC already wins at 8 KiB. automatic drops it where the kernel copies.
  std::size_t zerocopy_threshold = 12 * 1024;
  // Switch to copying when the kernel reports it copied (automatic always does; forced methods
  // only when this is set).
  bool switch_when_copied = false;
  std::uint64_t max_outstanding_bytes = 64ull << 20;
  std::chrono::milliseconds timeout{10'000};
  // ENOBUFS retries (each after draining notifications) before a buffer is sent by copying.
  int enobufs_retries = 3;
  // Datagram size for UDP_SEGMENT (GSO) on a UDP socket; 0 sends one datagram per buffer.
  std::uint16_t udp_segment = 0;
  unsigned uring_entries = 64;
  // automatic: bytes per epoch of the trial among the methods, and bytes sent after a
  // decision before the next trial. Rechecks find a method that became better; one that became
  // worse is caught sooner, by the watch on the choice, so they can be rare. Epochs of 64 MiB
  // judged 256 KiB sends more steadily than 32 MiB ones (docs/PERFORMANCE.md).
  std::uint64_t trial_epoch_bytes = 64ull << 20;
  std::uint64_t trial_recheck_bytes = 16ull << 30;
};

// How a method did in a trial of an automatic sender: the sending thread's CPU per GB sent, and
// the rate it sent at.
struct MethodFigures {
  double cpu_s_per_gb = 0;
  double gb_per_s = 0;
};

struct SenderStats {
  SendMethod method = SendMethod::automatic;  // the method sends use now
  std::uint64_t sends = 0;
  std::uint64_t bytes = 0;
  std::uint64_t bytes_zero_copy = 0;      // sent zero-copy, and the kernel did not copy them
  std::uint64_t bytes_kernel_copied = 0;  // sent zero-copy, but the kernel reported a copy
  std::uint64_t bytes_copy_sent = 0;      // sent by a copying send (method, threshold, fallback)
  std::uint64_t zerocopy_calls = 0;       // sendmsg(MSG_ZEROCOPY) calls or SEND_ZC requests
  std::uint64_t notifications = 0;        // error-queue messages or notification CQEs read
  std::uint64_t calls_copied = 0;         // zero-copy calls the kernel reported as copied
  std::uint64_t fixed_buffer_sends = 0;   // SEND_ZC requests from a registered buffer
  std::uint64_t below_threshold = 0;      // sends copied for being small
  std::uint64_t enobufs = 0;              // ENOBUFS answers to zero-copy sends
  std::uint64_t enobufs_fallbacks = 0;    // buffers then sent by copying
  std::uint64_t waits = 0;                // times the sender blocked for room or notifications
  std::uint64_t outstanding_high_water_bytes = 0;
  std::uint64_t outstanding_high_water_sends = 0;
  bool switched_to_copy = false;
  std::uint32_t method_trials = 0;   // trials among the methods begun (automatic)
  std::uint32_t method_changes = 0;  // times the chosen method slowed down and gave way
  // Each method's figures in the last finished trial (zeros before one finished, and for a
  // method that was not in it: uring_zc takes part only when buffers are registered).
  MethodFigures trial_copy;
  MethodFigures trial_msg_zerocopy;
  MethodFigures trial_uring_zc;
  std::string note;  // why the method changed, when it did
};

class ZeroCopySender {
 public:
  using Release = std::function<void()>;

  // A sender on a connected TCP or UDP socket. Enables SO_ZEROCOPY (msg_zerocopy, automatic),
  // sets up an io_uring (uring_zc) and UDP_SEGMENT (udp_segment). Errc::capability_missing when
  // a forced method is not available; automatic falls back to copying and says so in stats().
  static Result<ZeroCopySender> create(int socket_fd, const SenderOptions& options = {});

  ZeroCopySender(ZeroCopySender&&) noexcept;
  ZeroCopySender& operator=(ZeroCopySender&&) noexcept;
  ZeroCopySender(const ZeroCopySender&) = delete;
  ZeroCopySender& operator=(const ZeroCopySender&) = delete;
  // Waits (up to the timeout) for outstanding sends; buffers still held after that are leaked to
  // the kernel rather than released early.
  ~ZeroCopySender();

  // Sends all of `buffer` (or one GSO batch on UDP). The buffer must stay unchanged until the
  // returned ticket is complete; `release` runs then.
  Result<std::uint64_t> send(std::span<const std::byte> buffer, Release release = {});
  // One message gathered from several buffers (sendmsg / SENDMSG_ZC).
  Result<std::uint64_t> send(std::span<const iovec> fragments, Release release = {});

  // Registers `region` with the io_uring: sends from inside it use fixed buffers. uring_zc and
  // automatic only (Errc::invalid_argument for the others); automatic then sends zero-copy by
  // SEND_ZC, or, when the kernel lacks it, goes on without and says so in stats().note. The
  // region must outlive the sender.
  Result<void> register_buffer(std::span<const std::byte> region);

  // Reads whatever completions are ready, without blocking; returns how many sends completed.
  Result<std::size_t> poll();
  // Blocks until the ticket is complete, or Errc::timeout.
  Result<void> wait(std::uint64_t ticket);
  // Blocks until every send is complete, or Errc::timeout.
  Result<void> flush();

  // Lets go of every outstanding send without waiting and without running their releases: for a
  // connection being closed whose peer may never acknowledge. The kernel keeps its references to
  // the pages, so their memory may be unmapped but never written again. The sender is then empty
  // (as if moved from).
  void abandon() noexcept;

  bool is_complete(std::uint64_t ticket) const noexcept;
  std::uint64_t bytes_outstanding() const noexcept;
  // A snapshot: what the sender did so far.
  SenderStats stats() const;

  struct State;

 private:
  explicit ZeroCopySender(std::unique_ptr<State> state) noexcept;
  std::unique_ptr<State> state_;
};

}  // namespace zc::net
