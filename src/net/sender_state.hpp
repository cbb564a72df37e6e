// The state behind a ZeroCopySender, shared by its parts: the API (zerocopy_sender.cpp), the
// policy that picks the method (sender_policy.cpp) and the backends (sender_msg_zerocopy.cpp,
// sender_uring.cpp, sender_copy.cpp).
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <climits>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "net/method_trial.hpp"
#include "zcopy/net/completion_tracker.hpp"
#include "zcopy/net/io_uring.hpp"
#include "zcopy/net/zerocopy_sender.hpp"

namespace zc::net {

using Clock = std::chrono::steady_clock;

// A message's fragments, consumed from the front as partial sends go out. Up to kInline
// fragments live inside the cursor: a send of one buffer allocates nothing.
class IovCursor {
 public:
  explicit IovCursor(std::span<const iovec> fragments);
  IovCursor(const IovCursor&) = delete;  // data_ may point into this object
  IovCursor& operator=(const IovCursor&) = delete;
  bool empty() const noexcept { return next_ == count_; }
  std::span<iovec> remaining() noexcept { return std::span(data_ + next_, count_ - next_); }
  void advance(std::size_t bytes) noexcept;

 private:
  static constexpr std::size_t kInline = 4;
  std::array<iovec, kInline> inline_{};
  std::vector<iovec> heap_;
  iovec* data_ = inline_.data();
  std::size_t count_ = 0;
  std::size_t next_ = 0;
};

// sendmsg takes at most IOV_MAX fragments per call; the rest go in the next call.
inline msghdr message_of(std::span<iovec> fragments) {
  msghdr msg{};
  msg.msg_iov = fragments.data();
  msg.msg_iovlen = std::min<std::size_t>(fragments.size(), IOV_MAX);
  return msg;
}

struct ZeroCopySender::State {
  int fd = -1;
  SenderOptions options;
  bool stream = true;  // TCP; false for UDP
  SendMethod active = SendMethod::copy;
  // automatic with a zero-copy backend: the trial that decides among the methods once the
  // kernel reports copies.
  std::optional<MethodTrial> trial;
  bool msg_zerocopy_ready = false;  // SO_ZEROCOPY is set
  // The error queue numbers MSG_ZEROCOPY calls with the socket's own counter, which SEND_ZC does
  // not advance. So zero-copy calls of only one backend are outstanding at a time: switching
  // waits for the other's, and renumbers the tracker to this counter on the way to msg_zerocopy.
  SendMethod in_flight = SendMethod::msg_zerocopy;
  std::uint32_t kernel_zerocopy_calls = 0;
  // MSG_ZEROCOPY bytes sent since the error queue was last read. Reading it after every send
  // costs a recvmsg or two per send, mostly finding nothing; notifications merge into ranges
  // while they wait, so one read per kErrorQueueReadBytes collects many sends.
  static constexpr std::uint64_t kErrorQueueReadBytes = 256 << 10;
  std::uint64_t sent_since_error_queue_read = 0;
  CompletionTracker tracker;
  SenderStats stats;

  std::optional<IoUring> ring;  // set up for SEND_ZC
  std::span<const std::byte> registered;
  // The request whose result CQE send_uring waits for, and that result once drain_ring saw it.
  std::optional<std::uint32_t> awaited;
  bool awaited_done = false;
  int awaited_res = 0;

  // The method sends start with: options.method, or for automatic the first one this socket
  // has (enables SO_ZEROCOPY on the way); sets up the ring for uring_zc.
  Result<void> choose_initial_method();
  // automatic, on the first register_buffer: sets up SEND_ZC; false (with a note) when the
  // kernel lacks it.
  Result<bool> start_registered_sends();

  // Copying send of everything left in `cursor`.
  Result<void> send_copy(IovCursor& cursor, Clock::time_point deadline);
  // MSG_ZEROCOPY send of the open ticket's fragments.
  Result<void> send_msg_zerocopy(IovCursor& cursor, std::uint64_t total);
  // io_uring SEND_ZC / SENDMSG_ZC of the open ticket's fragments.
  Result<void> send_uring(IovCursor& cursor, std::uint64_t total);

  Result<void> setup_ring();
  // Reads the error queue until it is empty; returns how many notifications were read.
  Result<std::size_t> drain_error_queue();
  // Reads ready CQEs (notifications, and results of earlier requests) without blocking; `enter`
  // first asks the kernel to post the deferred ones (notifications), at a system call's price.
  Result<std::size_t> drain_ring(bool enter = true);
  // Blocks until a completion arrives or the deadline passes (Errc::timeout).
  Result<void> wait_for_completion(Clock::time_point deadline);
  // The two halves of it: true when a completion arrived before the deadline.
  Result<bool> wait_ring(Clock::time_point deadline);
  Result<bool> wait_error_queue(Clock::time_point deadline);
  // Blocks until the socket is writable (draining notifications meanwhile) or the deadline.
  Result<void> wait_writable(Clock::time_point deadline);

  void note_outstanding() noexcept;
  void apply_copied_policy();
  // automatic: the zero-copy method used until a trial says otherwise (SEND_ZC once buffers are
  // registered), and the methods a trial compares, that one first.
  SendMethod default_zero_copy() const noexcept;
  std::size_t trial_methods(std::array<SendMethod, MethodTrial::kMaxMethods>& methods) const;
  // automatic: the method for the next send, from the trial; accounts a send afterwards.
  void choose_method() noexcept;
  void account_trial(std::uint64_t bytes);
  // Makes `backend` (msg_zerocopy or uring_zc) the one whose calls are in flight.
  Result<void> switch_backend(SendMethod backend, Clock::time_point until);
  Clock::time_point deadline() const { return Clock::now() + options.timeout; }
};

}  // namespace zc::net
