// The zero-copy sender's policy, its MSG_ZEROCOPY backend and its copying backend (see
// zerocopy_sender.hpp). The io_uring backend is in uring_send.cpp.
#include "zcopy/net/zerocopy_sender.hpp"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <string>
#include <utility>

#include "net/sender_state.hpp"
#include "zcopy/core/capabilities.hpp"
#include "zcopy/core/syscall.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/net/zerocopy_notification.hpp"

namespace zc::net {

std::string_view to_string(SendMethod method) noexcept {
  switch (method) {
    case SendMethod::automatic:
      return "auto";
    case SendMethod::msg_zerocopy:
      return "zerocopy";
    case SendMethod::uring_zc:
      return "uring-zc";
    case SendMethod::copy:
      return "copy";
  }
  return "?";
}

std::optional<SendMethod> send_method_from_name(std::string_view name) noexcept {
  for (SendMethod m :
       {SendMethod::automatic, SendMethod::msg_zerocopy, SendMethod::uring_zc, SendMethod::copy}) {
    if (to_string(m) == name) return m;
  }
  return std::nullopt;
}

IovCursor::IovCursor(std::span<const iovec> fragments) {
  if (fragments.size() > kInline) {
    heap_.resize(fragments.size());
    data_ = heap_.data();
  }
  for (const iovec& f : fragments) {
    if (f.iov_len != 0) data_[count_++] = f;
  }
}

void IovCursor::advance(std::size_t bytes) noexcept {
  while (bytes > 0 && next_ < count_) {
    iovec& f = data_[next_];
    const std::size_t step = std::min(bytes, f.iov_len);
    f.iov_base = static_cast<char*>(f.iov_base) + step;
    f.iov_len -= step;
    bytes -= step;
    if (f.iov_len == 0) ++next_;
  }
}

namespace {

// sendmsg takes at most IOV_MAX fragments per call; the rest go in the next call.
msghdr message_of(std::span<iovec> fragments) {
  msghdr msg{};
  msg.msg_iov = fragments.data();
  msg.msg_iovlen = std::min<std::size_t>(fragments.size(), IOV_MAX);
  return msg;
}

}  // namespace

ZeroCopySender::State::~State() {
  if (ring_ready) io_uring_queue_exit(&ring);
}

void ZeroCopySender::State::note_outstanding() noexcept {
  stats.outstanding_high_water_bytes =
      std::max(stats.outstanding_high_water_bytes, tracker.bytes_outstanding());
  stats.outstanding_high_water_sends =
      std::max(stats.outstanding_high_water_sends, tracker.sends_outstanding());
}

void ZeroCopySender::State::apply_copied_policy() {
  stats.calls_copied = tracker.calls_copied();
  stats.bytes_zero_copy = tracker.bytes_completed_zero_copy();
  stats.bytes_kernel_copied = tracker.bytes_completed_copied();
  if (tracker.calls_copied() == 0) return;
  if (trial) {
    // The method changes only between sends (choose_method), never inside one.
    std::array<SendMethod, MethodTrial::kMaxMethods> methods{};
    if (trial->start(std::span(methods.data(), trial_methods(methods)))) {
      stats.note =
          "the kernel copied zero-copy sends (local delivery): measuring which method pays";
    }
    return;
  }
  if (!options.switch_when_copied || active == SendMethod::copy) return;
  active = SendMethod::copy;
  stats.method = SendMethod::copy;
  stats.switched_to_copy = true;
  stats.note = "switched to copying: the kernel copied zero-copy sends (local delivery)";
}

SendMethod ZeroCopySender::State::default_zero_copy() const noexcept {
  if (ring_ready && !registered.empty()) return SendMethod::uring_zc;
  return msg_zerocopy_ready ? SendMethod::msg_zerocopy : SendMethod::copy;
}

std::size_t ZeroCopySender::State::trial_methods(
    std::array<SendMethod, MethodTrial::kMaxMethods>& methods) const {
  std::size_t count = 0;
  methods[count++] = default_zero_copy();
  if (methods[0] == SendMethod::uring_zc && msg_zerocopy_ready) {
    methods[count++] = SendMethod::msg_zerocopy;
  }
  methods[count++] = SendMethod::copy;
  return count;
}

void ZeroCopySender::State::choose_method() noexcept {
  if (!trial) return;
  active = trial->method().value_or(default_zero_copy());
  stats.method = active;
}

void ZeroCopySender::State::account_trial(std::uint64_t bytes) {
  const bool was_running = trial->running();
  const SendMethod before = trial->chosen();
  if (!trial->sent(bytes)) {
    if (!was_running && trial->running()) {  // a recheck began
      stats.note = "measuring again which method pays; before: " + stats.note;
    }
    return;
  }
  choose_method();  // stats() names the method the next send uses
  stats.trial_copy = trial->figures(SendMethod::copy);
  stats.trial_msg_zerocopy = trial->figures(SendMethod::msg_zerocopy);
  stats.trial_uring_zc = trial->figures(SendMethod::uring_zc);
  stats.switched_to_copy = trial->chosen() == SendMethod::copy;
  std::string measured;
  for (SendMethod method : {SendMethod::copy, SendMethod::msg_zerocopy, SendMethod::uring_zc}) {
    const MethodFigures f = trial->figures(method);
    if (f.gb_per_s == 0) continue;
    char figures[96];
    std::snprintf(figures, sizeof figures, "%s%s %.2f GB/s at %.3f s/GB",
                  measured.empty() ? "" : ", ", std::string(to_string(method)).c_str(), f.gb_per_s,
                  f.cpu_s_per_gb);
    measured += figures;
  }
  const std::string chosen(to_string(trial->chosen()));
  if (was_running) {
    stats.note = "the kernel copies zero-copy sends (local delivery); measured " + measured + ": " +
                 chosen + " kept";
  } else {
    ++stats.method_changes;
    stats.note = std::string(to_string(before)) + " slowed down (measured " + measured +
                 "): went over to " + chosen;
  }
}

Result<void> ZeroCopySender::State::switch_backend(SendMethod backend, Clock::time_point until) {
  if (backend == in_flight) return {};
  while (tracker.calls_outstanding() > 0) {
    if (auto ok = wait_for_completion(until); !ok) return ok;
  }
  if (backend == SendMethod::msg_zerocopy) {
    if (auto ok = tracker.renumber_calls(kernel_zerocopy_calls); !ok) return ok;
  }
  in_flight = backend;
  return {};
}

Result<std::size_t> ZeroCopySender::State::drain_error_queue() {
  sent_since_error_queue_read = 0;
  std::size_t read = 0;
  for (;;) {
    std::array<char, 128> control{};
    msghdr msg{};
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    const ssize_t rc = ::recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT);
    if (rc == -1) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      return fail_errno(errno, "recvmsg(MSG_ERRQUEUE, fd " + std::to_string(fd) + ")");
    }
    auto range = parse_zerocopy_notification(msg);
    if (!range) return std::unexpected(std::move(range.error()));
    if (!*range) continue;
    ++stats.notifications;
    if (auto done = tracker.complete((*range)->lo, (*range)->hi, (*range)->copied); !done) {
      return std::unexpected(std::move(done.error()));
    }
    ++read;
  }
  if (read > 0) apply_copied_policy();
  return read;
}

Result<void> ZeroCopySender::State::wait_writable(Clock::time_point until) {
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now());
    if (left.count() <= 0) {
      return fail(Errc::timeout, "send(fd " + std::to_string(fd) + ")",
                  "socket not writable within " + std::to_string(options.timeout.count()) +
                      " ms (" + format_bytes(tracker.bytes_outstanding()) +
                      " outstanding; does the peer still read?)");
    }
    ++stats.waits;
    pollfd p{.fd = fd, .events = POLLOUT, .revents = 0};
    auto rc = sys_call({"poll", fd}, [&] { return ::poll(&p, 1, static_cast<int>(left.count())); });
    if (!rc) return std::unexpected(rc.error());
    if ((p.revents & POLLERR) != 0) {
      auto drained =
          in_flight == SendMethod::uring_zc ? Result<std::size_t>(0) : drain_error_queue();
      if (!drained) return std::unexpected(drained.error());
      if (*drained == 0) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) return fail_errno(err, "send(fd " + std::to_string(fd) + ")");
      }
    }
    if ((p.revents & POLLOUT) != 0) return {};
    if ((p.revents & (POLLHUP | POLLNVAL)) != 0) {
      return fail(Errc::closed, "send(fd " + std::to_string(fd) + ")", "the connection is closed");
    }
  }
}

Result<void> ZeroCopySender::State::wait_for_completion(Clock::time_point until) {
  if (in_flight == SendMethod::uring_zc) {
    const auto left = std::chrono::ceil<std::chrono::microseconds>(until - Clock::now());
    if (left.count() > 0) {
      __kernel_timespec ts{.tv_sec = left.count() / 1'000'000,
                           .tv_nsec = (left.count() % 1'000'000) * 1000};
      io_uring_cqe* cqe = nullptr;
      ++stats.waits;
      const int rc = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
      if (rc != 0 && rc != -ETIME && rc != -EINTR) return fail_errno(-rc, "io_uring_wait_cqe");
      auto drained = drain_ring();
      if (!drained) return std::unexpected(drained.error());
      if (rc == 0) return {};
    }
  } else {
    for (;;) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now());
      if (left.count() <= 0) break;
      ++stats.waits;
      // POLLERR alone: the error queue has a notification (or the socket an error).
      pollfd p{.fd = fd, .events = 0, .revents = 0};
      auto rc =
          sys_call({"poll", fd}, [&] { return ::poll(&p, 1, static_cast<int>(left.count())); });
      if (!rc) return std::unexpected(rc.error());
      if (*rc == 0) break;
      auto drained = drain_error_queue();
      if (!drained) return std::unexpected(drained.error());
      if (*drained > 0) return {};
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) return fail_errno(err, "zero-copy send(fd " + std::to_string(fd) + ")");
      if ((p.revents & (POLLHUP | POLLNVAL)) != 0) {
        return fail(Errc::closed, "zero-copy send(fd " + std::to_string(fd) + ")",
                    "the connection closed with " + format_bytes(tracker.bytes_outstanding()) +
                        " unacknowledged");
      }
    }
  }
  return fail(Errc::timeout, "zero-copy send(fd " + std::to_string(fd) + ")",
              "no completion within " + std::to_string(options.timeout.count()) + " ms with " +
                  format_bytes(tracker.bytes_outstanding()) + " outstanding in " +
                  std::to_string(tracker.sends_outstanding()) +
                  " sends (does the peer still read?)");
}

Result<void> ZeroCopySender::State::send_copy(IovCursor& cursor, Clock::time_point until) {
  while (!cursor.empty()) {
    msghdr msg = message_of(cursor.remaining());
    const ssize_t n = ::sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) {
      stats.bytes_copy_sent += static_cast<std::uint64_t>(n);
      cursor.advance(static_cast<std::size_t>(n));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      if (auto ok = wait_writable(until); !ok) return ok;
      continue;
    }
    return fail_errno(errno, "sendmsg(fd " + std::to_string(fd) + ")");
  }
  return {};
}

Result<void> ZeroCopySender::State::send_msg_zerocopy(IovCursor& cursor, std::uint64_t total) {
  const auto until = deadline();
  int enobufs_left = options.enobufs_retries;
  while (!cursor.empty()) {
    if (active == SendMethod::copy) return send_copy(cursor, until);  // switched meanwhile
    msghdr msg = message_of(cursor.remaining());
    const ssize_t n = ::sendmsg(fd, &msg, MSG_ZEROCOPY | MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n >= 0) {
      tracker.add_call();
      ++kernel_zerocopy_calls;
      ++stats.zerocopy_calls;
      cursor.advance(static_cast<std::size_t>(n));
      continue;
    }
    const int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN) {
      if (auto ok = wait_writable(until); !ok) return ok;
      continue;
    }
    if (err == ENOBUFS) {
      // Out of optmem (each call holds a notification skb) or of locked memory: completions
      // give both back, so drain, retry, and only then copy this buffer.
      ++stats.enobufs;
      if (enobufs_left-- > 0) {
        auto drained = drain_error_queue();
        if (!drained) return std::unexpected(drained.error());
        if (*drained == 0 && tracker.calls_outstanding() > 0) {
          // Give the notifications in flight a moment (bounded) to arrive.
          auto waited =
              wait_for_completion(std::min(until, Clock::now() + std::chrono::milliseconds(5)));
          if (!waited && waited.error().code() != Errc::timeout) return waited;
        }
        continue;
      }
      ++stats.enobufs_fallbacks;
      return send_copy(cursor, until);
    }
    return fail_errno(err, "sendmsg(MSG_ZEROCOPY, fd " + std::to_string(fd) + ")",
                      format_bytes(total) + " message");
  }
  return {};
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

  SendMethod method = options.method;
  if (method == SendMethod::msg_zerocopy || method == SendMethod::automatic) {
    const int one = 1;
    const int rc = ::setsockopt(socket_fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof one);
    if (rc != 0) {
      if (method == SendMethod::msg_zerocopy) {
        return fail(Errc::capability_missing,
                    "setsockopt(SO_ZEROCOPY, fd " + std::to_string(socket_fd) + ")",
                    "MSG_ZEROCOPY unavailable: " + Error::from_errno(errno, "").message());
      }
      state->stats.note =
          "copying: SO_ZEROCOPY refused (" + Error::from_errno(errno, "setsockopt").message() + ")";
      method = SendMethod::copy;
    } else {
      method = SendMethod::msg_zerocopy;
      state->msg_zerocopy_ready = true;
    }
  }
  if (method == SendMethod::uring_zc) {
    const Probe& p = probe(Capability::io_uring_send_zc);
    if (!p.available) {
      return fail(Errc::capability_missing, "io_uring SEND_ZC", p.detail);
    }
    if (auto ok = state->setup_ring(); !ok) return std::unexpected(ok.error());
  }
  state->active = method;
  state->stats.method = method;
  if (method == SendMethod::uring_zc) state->in_flight = SendMethod::uring_zc;
  if (options.method == SendMethod::automatic && method != SendMethod::copy) {
    state->trial.emplace(options.trial_epoch_bytes, options.trial_recheck_bytes);
  }
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
  // (on loopback MSG_ZEROCOPY sent 4 KiB at 1.9 GB/s against 1.2 for copying).
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
  if (!s.ring_ready && s.options.method == SendMethod::automatic) {
    // The cheapest zero-copy send there is, when the kernel has it; without, go on as before.
    const Probe& p = probe(Capability::io_uring_send_zc);
    if (!p.available) {
      s.stats.note = "SEND_ZC unavailable (" + p.detail + "): registered buffers unused";
      return {};
    }
    if (auto ok = s.setup_ring(); !ok) return ok;
    if (!s.trial) s.trial.emplace(s.options.trial_epoch_bytes, s.options.trial_recheck_bytes);
  }
  if (!s.ring_ready) {
    return fail(Errc::invalid_argument, "register_buffer",
                "only the uring-zc and auto methods use them");
  }
  if (!s.registered.empty()) {
    if (int rc = io_uring_unregister_buffers(&s.ring); rc < 0) {
      return fail_errno(-rc, "io_uring_unregister_buffers");
    }
    s.registered = {};
  }
  const iovec iov{const_cast<std::byte*>(region.data()), region.size()};
  if (int rc = io_uring_register_buffers(&s.ring, &iov, 1); rc < 0) {
    return fail_errno(-rc, "io_uring_register_buffers(" + format_bytes(region.size()) + ")",
                      rc == -ENOMEM ? "raise RLIMIT_MEMLOCK or pin less" : "");
  }
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

bool ZeroCopySender::is_complete(std::uint64_t ticket) const noexcept {
  return state_->tracker.is_complete(ticket);
}

std::uint64_t ZeroCopySender::bytes_outstanding() const noexcept {
  return state_->tracker.bytes_outstanding();
}

const SenderStats& ZeroCopySender::stats() const noexcept {
  state_->stats.calls_copied = state_->tracker.calls_copied();
  state_->stats.bytes_zero_copy = state_->tracker.bytes_completed_zero_copy();
  state_->stats.bytes_kernel_copied = state_->tracker.bytes_completed_copied();
  if (state_->trial) state_->stats.method_trials = state_->trial->trials();
  return state_->stats;
}

}  // namespace zc::net
