// Socket: opening (the bind order zero-copy, then copy), closing, and what it reports.
#include "zcopy/xdp/socket.hpp"

#include <fcntl.h>
#include <sys/socket.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

#include "socket_state.hpp"
#include "zcopy/core/net_device.hpp"

namespace zc::xdp {
namespace {

using detail::OpenSocket;
using detail::SocketState;
using detail::UmemState;

std::string errno_words(int err) {
  std::string text = std::strerror(err);
  if (const char* name = strerrorname_np(err)) text += std::string(" [") + name + "]";
  return text;
}

bool ring_size_ok(std::uint32_t size) {
  return std::has_single_bit(size) && size <= (1u << 20);
}

// Why the driver of `interface` gave `err` for a zero-copy bind, in words.
std::string zero_copy_refusal(const std::string& interface, int err) {
  std::string text = "zero-copy refused: bind(XDP_ZEROCOPY) " + errno_words(err);
  auto device = net_device(interface);
  if (device) {
    text += "; " + (device->driver.empty() ? interface : device->driver) + ": " +
            device->describe_xdp();
  }
  return text;
}

// Binds a new socket through libxdp with `bind_flags`; -errno on failure, with everything it
// made undone.
int create(SocketState& s, const std::string& interface, std::uint32_t queue,
           const SocketOptions& options, std::uint16_t bind_flags, bool first) {
  xsk_socket_config config{};
  config.rx_size = options.rx_ring_size;
  config.tx_size = options.tx_ring_size;
  config.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;  // RedirectProgram is ours
  config.xdp_flags = 0;
  config.bind_flags = bind_flags;
  // The first socket takes the rings libxdp mapped on the UMEM's own descriptor: handing libxdp
  // those very structs keeps them mapped if this bind fails and is retried in another mode.
  UmemState& umem = *s.umem;
  xsk_ring_prod* fill = first ? &umem.first_fill : &s.fill_memory;
  xsk_ring_cons* completion = first ? &umem.first_completion : &s.completion_memory;
  const int rc = xsk_socket__create_shared(&s.handle, interface.c_str(), queue, umem.handle,
                                           &s.rx_memory, &s.tx_memory, fill, completion, &config);
  if (rc != 0) {
    s.handle = nullptr;
    return rc;
  }
  if (first) {
    s.fill_memory = umem.first_fill;
    s.completion_memory = umem.first_completion;
  }
  return 0;
}

// create(), retried while the queue is busy for up to a second: the kernel lets go of a closed
// socket's queue in a deferred release (a work item after the last reference), so a socket
// opened right after another closed, as a restarted program opens it, finds EBUSY for a moment.
// A queue some live socket serves stays busy, and the bind fails after the second.
int create_when_free(SocketState& s, const std::string& interface, std::uint32_t queue,
                     const SocketOptions& options, std::uint16_t bind_flags, bool first) {
  constexpr int kTries = 100;
  for (int attempt = 1;; ++attempt) {
    const int rc = create(s, interface, queue, options, bind_flags, first);
    if (rc != -EBUSY || attempt == kTries) return rc;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

Result<Socket> Socket::open(Umem& umem, RedirectProgram& program, const SocketOptions& options) {
  const std::string op =
      "AF_XDP socket on " + program.interface() + " queue " + std::to_string(options.queue);
  if (!ring_size_ok(options.rx_ring_size) || !ring_size_ok(options.tx_ring_size)) {
    return fail(Errc::invalid_argument, op, "ring sizes must be powers of two up to 1048576");
  }
  if (options.queue >= RedirectProgram::kMaxQueues) {
    return fail(
        Errc::invalid_argument, op,
        "queues above " + std::to_string(RedirectProgram::kMaxQueues - 1) + " are not served");
  }
  if (!program.native() &&
      (options.mode == ModeChoice::zero_copy || options.mode == ModeChoice::native_copy)) {
    return fail(Errc::capability_missing, op,
                std::string(to_string(options.mode)) +
                    " needs the program in driver mode: " + program.native_refusal());
  }

  UmemState& u = *umem.state_;
  std::lock_guard lock(u.sockets_lock);
  for (const OpenSocket& other : u.sockets) {
    if (other.ifindex == program.ifindex() && other.queue == options.queue) {
      return fail(Errc::invalid_argument, op, "that queue already has a socket on this UMEM");
    }
  }
  if (u.sockets.empty() && u.first_rings_taken) {
    // libxdp keeps the UMEM bound to its first socket's device; it takes no fresh first socket.
    return fail(Errc::invalid_argument, op,
                "every socket of this UMEM has closed; a new socket needs a new UMEM");
  }

  auto s = std::make_unique<SocketState>();
  s->umem = &u;
  s->program = &program;
  s->queue = options.queue;
  s->id = u.next_socket_id++;
  const bool first = u.sockets.empty();
  const std::string where = program.interface() + " queue " + std::to_string(options.queue);

  std::string why_not_faster;
  if (first) {
    // The first bind decides zero-copy or copy for every socket of the UMEM.
    const bool try_zero_copy = program.native() && (options.mode == ModeChoice::automatic ||
                                                    options.mode == ModeChoice::zero_copy);
    int rc = -EOPNOTSUPP;
    if (try_zero_copy) {
      rc = create_when_free(*s, program.interface(), options.queue, options,
                            XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP, true);
      if (rc != 0) {
        why_not_faster = zero_copy_refusal(program.interface(), -rc);
        if (options.mode == ModeChoice::zero_copy) {
          return fail(Errc::capability_missing, op, why_not_faster);
        }
      }
    } else if (program.native()) {
      why_not_faster = "zero-copy not asked for";
    } else {
      why_not_faster = program.native_refusal();
    }
    if (rc != 0) {
      rc = create_when_free(*s, program.interface(), options.queue, options,
                            XDP_COPY | XDP_USE_NEED_WAKEUP, true);
      if (rc != 0) return fail_errno(-rc, op + ": bind(XDP_COPY)", why_not_faster);
    }
    u.zero_copy = rc == 0 && try_zero_copy && why_not_faster.empty();
    u.first_rings_taken = true;
  } else {
    if (options.mode == ModeChoice::zero_copy && !u.zero_copy) {
      return fail(Errc::capability_missing, op,
                  "the first socket of this UMEM bound in copy mode, which binds them all");
    }
    // A shared socket inherits zero-copy or copy from the UMEM (XDP_SHARED_UMEM).
    const int rc = create_when_free(*s, program.interface(), options.queue, options, 0, false);
    if (rc != 0) return fail_errno(-rc, op + ": bind(XDP_SHARED_UMEM)");
    if (!u.zero_copy) {
      why_not_faster =
          program.native() ? "shares a UMEM bound in copy mode" : program.native_refusal();
    }
  }

  s->fd = xsk_socket__fd(s->handle);
  ::fcntl(s->fd, F_SETFD, FD_CLOEXEC);  // libxdp makes its sockets without SOCK_CLOEXEC
  s->rx = detail::ConsumerRing<xdp_desc>(detail::memory_of<xdp_desc>(s->rx_memory));
  s->tx = detail::ProducerRing<xdp_desc>(detail::memory_of<xdp_desc>(s->tx_memory));
  s->fill = detail::ProducerRing<std::uint64_t>(detail::memory_of<std::uint64_t>(s->fill_memory));
  s->completion =
      detail::ConsumerRing<std::uint64_t>(detail::memory_of<std::uint64_t>(s->completion_memory));
  s->mode = u.zero_copy        ? BindMode::zero_copy
            : program.native() ? BindMode::native_copy
                               : BindMode::skb_copy;
  s->mode_line = where + ": " + std::string(to_string(s->mode)) + " mode";
  if (!why_not_faster.empty()) s->mode_line += " (" + why_not_faster + ")";

  if (auto routed = program.route(options.queue, s->fd); !routed) {
    xsk_socket__delete(s->handle);
    return std::unexpected(std::move(routed.error()).with_context(op));
  }
  u.sockets.push_back({s->id, program.ifindex(), options.queue});
  detail::refill(*s);
  return Socket(std::move(s));
}

Socket::Socket(std::unique_ptr<SocketState> state) noexcept : state_(std::move(state)) {}
Socket::Socket(Socket&&) noexcept = default;

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    Socket dying(std::move(*this));
    state_ = std::move(other.state_);
  }
  return *this;
}

Socket::~Socket() {
  if (!state_) return;
  SocketState& s = *state_;
  UmemState& u = *s.umem;
  std::lock_guard lock(u.sockets_lock);
  (void)s.program->unroute(s.queue);
  xsk_socket__delete(s.handle);
  // The kernel let go of everything with the socket: what sat in this socket's fill, rx, tx and
  // completion rings goes back to the free frames.
  for (std::uint32_t frame = 0; frame < u.frame_count; ++frame) {
    const std::uint32_t word = u.owners[frame].load(std::memory_order_acquire);
    if (word == s.fill_word() || word == s.tx_word()) u.give_back(frame, word);
  }
  std::erase_if(u.sockets, [&](const OpenSocket& o) { return o.id == s.id; });
}

BindMode Socket::mode() const noexcept {
  return state_->mode;
}

const std::string& Socket::mode_line() const noexcept {
  return state_->mode_line;
}

std::uint32_t Socket::queue() const noexcept {
  return state_->queue;
}

int Socket::fd() const noexcept {
  return state_->fd;
}

std::uint32_t Socket::tx_in_flight() const noexcept {
  return state_->in_tx;
}

SocketStatistics Socket::statistics() const {
  SocketStatistics s = state_->counted;
  s.ring_faults = state_->rx.faults() + state_->completion.faults();
  xdp_statistics kernel{};
  socklen_t size = sizeof kernel;
  if (::getsockopt(state_->fd, SOL_XDP, XDP_STATISTICS, &kernel, &size) == 0) {
    s.kernel_rx_dropped = kernel.rx_dropped;
    s.kernel_rx_invalid_descs = kernel.rx_invalid_descs;
    s.kernel_tx_invalid_descs = kernel.tx_invalid_descs;
    s.kernel_rx_ring_full = kernel.rx_ring_full;
    s.kernel_rx_fill_ring_empty = kernel.rx_fill_ring_empty_descs;
    s.kernel_tx_ring_empty = kernel.tx_ring_empty_descs;
  }
  s.frames_held = state_->umem->held.load(std::memory_order_relaxed);
  return s;
}

}  // namespace zc::xdp
