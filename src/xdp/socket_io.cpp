// Socket: the data path. Frames move between the rings and the application here, each move
// checked against the frame's owner word first.
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>

#include "socket_state.hpp"
#include "zcopy/core/syscall.hpp"
#include "zcopy/xdp/socket.hpp"

namespace zc::xdp {
namespace detail {
namespace {

constexpr std::uint32_t kBatch = 64;

// An rx descriptor we may follow: inside the UMEM, within one frame, and naming a frame the
// kernel held for this socket, which is then the application's. Anything else is counted.
bool accept_rx(SocketState& s, const xdp_desc& d) noexcept {
  UmemState& u = *s.umem;
  const std::uint64_t offset = d.addr & (u.frame_size - 1);
  if (d.addr >= u.area_bytes || d.len == 0 || offset + d.len > u.frame_size) return false;
  return u.move(u.frame_of(d.addr), s.fill_word(), owner_word(Place::application));
}

}  // namespace

std::uint32_t refill(SocketState& s) noexcept {
  UmemState& u = *s.umem;
  const std::uint32_t room = s.fill.free(s.fill.size());
  if (room == 0) return 0;
  if (room == s.fill.size() && s.refilled) ++s.counted.fill_ring_empty;  // the kernel had none
  s.refilled = true;
  std::uint32_t given = 0;
  while (given < room) {
    const auto frame = u.take_free(s.fill_word());
    if (!frame) {
      ++s.counted.frames_unavailable;
      break;
    }
    s.fill.slot(given++) = u.base_of(*frame);
  }
  if (given > 0) s.fill.submit(given);
  return given;
}

}  // namespace detail

std::size_t Socket::complete() {
  detail::SocketState& s = *state_;
  std::size_t reaped = 0;
  for (;;) {
    const std::uint32_t n = s.completion.available(detail::kBatch);
    if (n == 0) break;
    for (std::uint32_t i = 0; i < n; ++i) {
      const std::uint64_t address = s.completion.slot(i);
      if (address < s.umem->area_bytes &&
          s.umem->give_back(s.umem->frame_of(address), s.tx_word())) {
        ++s.counted.tx_completed;
        --s.in_tx;
        ++reaped;
      } else {
        ++s.counted.invalid_completions;
      }
    }
    s.completion.release(n);
  }
  return reaped;
}

std::size_t Socket::receive(std::span<Frame> out) {
  detail::SocketState& s = *state_;
  if (s.in_tx > 0) complete();
  std::size_t taken = 0;
  while (taken < out.size()) {
    const auto wanted =
        static_cast<std::uint32_t>(std::min<std::size_t>(out.size() - taken, detail::kBatch));
    const std::uint32_t n = s.rx.available(wanted);
    if (n == 0) break;
    for (std::uint32_t i = 0; i < n; ++i) {
      const xdp_desc d = s.rx.slot(i);  // one read of an entry anyone may scribble on
      if (!detail::accept_rx(s, d)) {
        ++s.counted.invalid_rx_descriptors;
        continue;
      }
      s.umem->held.fetch_add(1, std::memory_order_relaxed);
      out[taken++] = Frame(s.umem, d.addr, d.len);
      ++s.counted.rx_packets;
      s.counted.rx_bytes += d.len;
    }
    s.rx.release(n);
  }
  detail::refill(s);
  // A zero-copy driver that ran out of fill entries waits to be told there are new ones.
  if (s.fill.needs_wakeup()) ::recvfrom(s.fd, nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
  return taken;
}

Result<bool> Socket::wait(std::chrono::milliseconds timeout) {
  pollfd p{state_->fd, POLLIN, 0};
  auto ready = sys_call({"poll(AF_XDP)", state_->fd},
                        [&] { return ::poll(&p, 1, static_cast<int>(timeout.count())); });
  if (!ready) return std::unexpected(ready.error());
  return *ready > 0;
}

Result<std::size_t> Socket::send(std::span<Frame> frames) {
  detail::SocketState& s = *state_;
  complete();
  const auto room =
      s.tx.free(static_cast<std::uint32_t>(std::min<std::size_t>(frames.size(), s.tx.size())));
  std::uint32_t queued = 0;
  for (std::uint32_t i = 0; i < room; ++i) {
    Frame& frame = frames[i];
    if (frame.umem_ != s.umem) {
      if (queued > 0) s.tx.submit(queued);
      return fail(Errc::invalid_argument, "xdp::Socket::send",
                  frame.valid() ? "a frame of another UMEM" : "an empty frame handle");
    }
    if (!s.umem->move(frame.index(), detail::owner_word(detail::Place::application), s.tx_word())) {
      s.umem->bad_returns.fetch_add(1, std::memory_order_relaxed);
      frame.forget();
      continue;
    }
    s.tx.slot(queued++) = xdp_desc{frame.address(), frame.size(), 0};
    s.counted.tx_bytes += frame.size();
    s.umem->held.fetch_sub(1, std::memory_order_relaxed);
    frame.forget();
  }
  if (queued == 0) return std::size_t{0};
  s.tx.submit(queued);
  s.in_tx += queued;
  s.counted.tx_packets += queued;
  if (auto woken = flush(); !woken) return std::unexpected(woken.error());
  return std::size_t{room};
}

Result<void> Socket::flush() {
  detail::SocketState& s = *state_;
  // Copy mode sends from inside sendto, a few dozen descriptors a call, and answers EAGAIN while
  // more remain; zero-copy drivers ask through need_wakeup. A bounded number of calls: what is
  // left goes with the next send or flush.
  for (int calls = 0; calls < 64; ++calls) {
    if (s.tx.pending_now() == 0) break;
    if (s.mode == BindMode::zero_copy && !s.tx.needs_wakeup()) break;
    if (::sendto(s.fd, nullptr, 0, MSG_DONTWAIT, nullptr, 0) >= 0) continue;
    const int err = errno;
    if (err == EAGAIN || err == EBUSY || err == EINTR) continue;
    if (err == ENOBUFS) break;  // the device queue is full; try again later
    return fail_errno(err, "sendto(AF_XDP fd " + std::to_string(s.fd) + ")");
  }
  return {};
}

}  // namespace zc::xdp
