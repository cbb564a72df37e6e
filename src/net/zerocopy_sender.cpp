// The zero-copy sender's interface (zerocopy_sender.hpp): setting up, sending by the method the
// policy chooses (sender_policy.cpp) through a backend (sender_msg_zerocopy.cpp,
// sender_uring.cpp, sender_copy.cpp), and waiting for completions.
#include "zcopy/net/zerocopy_sender.hpp"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#include <string>
#include <utility>

#include "net/sender_state.hpp"
#include "zcopy/core/syscall.hpp"
#include "zcopy/core/units.hpp"

namespace zc::net {

Result<void> ZeroCopySender::State::wait_for_completion(Clock::time_point until) {
  auto arrived = in_flight == SendMethod::uring_zc ? wait_ring(until) : wait_error_queue(until);
  if (!arrived) return std::unexpected(arrived.error());
  if (*arrived) return {};
  return fail(Errc::timeout, "zero-copy send(fd " + std::to_string(fd) + ")",
              "no completion within " + std::to_string(options.timeout.count()) + " ms with " +
                  format_bytes(tracker.bytes_outstanding()) + " outstanding in " +
                  std::to_string(tracker.sends_outstanding()) +
                  " sends (does the peer still read?)");
}

ZeroCopySender::ZeroCopySender(std::unique_ptr<State> state) noexcept : state_(std::move(state)) {}
ZeroCopySender::ZeroCopySender(ZeroCopySender&&) noexcept = default;
ZeroCopySender& ZeroCopySender::operator=(ZeroCopySender&&) noexcept = default;

ZeroCopySender::~ZeroCopySender() {
  if (!state_) return;
  (void)flush();
}

Result<ZeroCopySender> ZeroCopySender::create(int socket_fd, const SenderOptions& options) {
  auto state = std::make_unique<State>();
  state->fd = socket_fd;
  state->options = options;
  int type = 0;
  socklen_t len = sizeof type;
  if (auto rc = sys_call({"getsockopt(SO_TYPE)", socket_fd},
                         [&] { return ::getsockopt(socket_fd, SOL_SOCKET, SO_TYPE, &type, &len); });
      !rc) {
    return std::unexpected(rc.error());
  }
  state->stream = type == SOCK_STREAM;
  if (type != SOCK_STREAM && type != SOCK_DGRAM) {
    return fail(Errc::invalid_argument, "zero-copy sender(fd " + std::to_string(socket_fd) + ")",
                "needs a TCP or UDP socket");
  }
  if (options.udp_segment != 0) {
    if (state->stream) {
      return fail(Errc::invalid_argument, "zero-copy sender", "udp_segment needs a UDP socket");
    }
    const int size = options.udp_segment;
    if (auto rc = sys_call(
            {"setsockopt(UDP_SEGMENT)", socket_fd},
            [&] { return ::setsockopt(socket_fd, SOL_UDP, UDP_SEGMENT, &size, sizeof size); });
        !rc) {
      return std::unexpected(rc.error());
    }
  }

  if (auto ok = state->choose_initial_method(); !ok) return std::unexpected(ok.error());
  return ZeroCopySender(std::move(state));
}

Result<std::uint64_t> ZeroCopySender::send(std::span<const std::byte> buffer, Release release) {
  const iovec one{const_cast<std::byte*>(buffer.data()), buffer.size()};  // sendmsg never writes
  return send(std::span(&one, 1), std::move(release));
}

Result<std::uint64_t> ZeroCopySender::send(std::span<const iovec> fragments, Release release) {
  State& s = *state_;
  std::uint64_t total = 0;
  for (const iovec& f : fragments) total += f.iov_len;
  ++s.stats.sends;
  s.stats.bytes += total;

  s.choose_method();
  SendMethod method = s.active;
  // The threshold is what pays on a device. An automatic sender probes with its first send
  // whatever the size: if the kernel copies zero-copy sends here (local delivery), the trial
  // measures each method at the sizes this socket sends, and the threshold no longer applies
  // (on loopback MSG_ZEROCOPY beat copying even at 4 KiB: docs/PERFORMANCE.md).
  const bool probe = s.trial && s.stats.zerocopy_calls == 0 && s.stats.below_threshold == 0;
  const bool small =
      total < s.options.zerocopy_threshold && !probe && !(s.trial && s.trial->started());
  if (method != SendMethod::copy && small) {
    method = SendMethod::copy;
    ++s.stats.below_threshold;
  }
  IovCursor cursor(fragments);
  if (method == SendMethod::copy) {
    // Pick up completions of earlier zero-copy sends on the way, without waiting for any.
    if (s.tracker.calls_outstanding() > 0) {
      if (auto polled = poll(); !polled) return std::unexpected(polled.error());
    }
    const std::uint64_t ticket = s.tracker.begin_send(total, std::move(release));
    auto sent = s.send_copy(cursor, s.deadline());
    s.tracker.end_send();
    if (!sent) return std::unexpected(sent.error());
    if (s.trial && !small) s.account_trial(total);
    return ticket;
  }

  const auto until = s.deadline();
  if (auto ok = s.switch_backend(method, until); !ok) return std::unexpected(ok.error());
  // Room for this send under the bound on outstanding bytes.
  while (s.tracker.calls_outstanding() > 0 &&
         s.tracker.bytes_outstanding() + total > s.options.max_outstanding_bytes) {
    if (auto ok = s.wait_for_completion(until); !ok) return std::unexpected(ok.error());
  }
  const std::uint64_t ticket = s.tracker.begin_send(total, std::move(release));
  s.note_outstanding();
  auto sent = method == SendMethod::uring_zc ? s.send_uring(cursor, total)
                                             : s.send_msg_zerocopy(cursor, total);
  s.tracker.end_send();
  if (!sent) return std::unexpected(sent.error());
  // send_uring reaped the ring while it waited for its result, with the kernel's deferred
  // notifications: another look would cost a system call per send and find nothing.
  if (method == SendMethod::msg_zerocopy) {
    s.sent_since_error_queue_read += total;
    if (s.sent_since_error_queue_read >= State::kErrorQueueReadBytes) {
      if (auto polled = poll(); !polled) return std::unexpected(polled.error());
    }
  }
  if (s.trial) s.account_trial(total);
  return ticket;
}

Result<void> ZeroCopySender::register_buffer(std::span<const std::byte> region) {
  State& s = *state_;
  if (!s.ring && s.options.method == SendMethod::automatic) {
    auto started = s.start_registered_sends();
    if (!started) return std::unexpected(started.error());
    if (!*started) return {};
  }
  if (!s.ring) {
    return fail(Errc::invalid_argument, "register_buffer",
                "only the uring-zc and auto methods use them");
  }
  if (!s.registered.empty()) {
    if (auto ok = s.ring->unregister_buffers(); !ok) return ok;
    s.registered = {};
  }
  const iovec iov{const_cast<std::byte*>(region.data()), region.size()};
  if (auto ok = s.ring->register_buffers(std::span(&iov, 1)); !ok) return ok;
  s.registered = region;
  s.choose_method();
  return {};
}

Result<std::size_t> ZeroCopySender::poll() {
  State& s = *state_;
  const std::uint64_t before = s.tracker.sends_completed();
  if (s.in_flight == SendMethod::uring_zc) {
    if (auto drained = s.drain_ring(); !drained) return std::unexpected(drained.error());
  } else if (s.tracker.calls_outstanding() > 0) {
    if (auto drained = s.drain_error_queue(); !drained) return std::unexpected(drained.error());
  }
  return static_cast<std::size_t>(s.tracker.sends_completed() - before);
}

Result<void> ZeroCopySender::wait(std::uint64_t ticket) {
  State& s = *state_;
  const auto until = s.deadline();
  if (auto polled = poll(); !polled) return std::unexpected(polled.error());
  while (!s.tracker.is_complete(ticket)) {
    if (auto ok = s.wait_for_completion(until); !ok) return ok;
  }
  return {};
}

Result<void> ZeroCopySender::flush() {
  State& s = *state_;
  const auto until = s.deadline();
  if (auto polled = poll(); !polled) return std::unexpected(polled.error());
  while (s.tracker.calls_outstanding() > 0) {
    if (auto ok = s.wait_for_completion(until); !ok) return ok;
  }
  return {};
}

void ZeroCopySender::abandon() noexcept {
  state_.reset();
}

bool ZeroCopySender::is_complete(std::uint64_t ticket) const noexcept {
  return state_->tracker.is_complete(ticket);
}

std::uint64_t ZeroCopySender::bytes_outstanding() const noexcept {
  return state_->tracker.bytes_outstanding();
}

SenderStats ZeroCopySender::stats() const {
  const State& s = *state_;
  SenderStats stats = s.stats;
  // What the completions and the trial know is read from them, not kept twice.
  stats.calls_copied = s.tracker.calls_copied();
  stats.bytes_zero_copy = s.tracker.bytes_completed_zero_copy();
  stats.bytes_kernel_copied = s.tracker.bytes_completed_copied();
  if (s.trial) stats.method_trials = s.trial->trials();
  return stats;
}

}  // namespace zc::net
