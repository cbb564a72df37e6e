// The publisher's connections before their hello: taken from the listener without ever spinning
// on it, judged by the credentials the kernel recorded at connect() before anything is spent on
// them, and held only so many and so long.
//
// Descriptors. Each pending connection costs one. When accept() fails with EMFILE or ENFILE the
// listener stays readable, so simply returning would bring us straight back to it: a busy loop
// that never admits anyone. Instead we make room, in this order: the oldest pending connection
// goes (it has been silent longest); failing that, the spare descriptor `reserve` is given up to
// take the connection only to tell it we have no descriptor for it; failing that (someone took
// the spare), accepting pauses for kAcceptPause, or until a departure frees descriptors.
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <string>

#include "handshake.hpp"
#include "publisher_state.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc::detail {
namespace {

// Connections taken per listener event: the rest wait for the next one, so a flood cannot hold
// up the data path for long.
constexpr int kAcceptBatch = 32;
constexpr auto kAcceptPause = std::chrono::milliseconds(100);

// The credentials the kernel recorded when the peer called connect() (effective ids).
Result<PeerCredentials> connect_credentials(int socket) {
  ucred peer{};
  socklen_t length = sizeof peer;
  auto got = sys_call({"getsockopt(SO_PEERCRED)", socket}, [&] {
    return ::getsockopt(socket, SOL_SOCKET, SO_PEERCRED, &peer, &length);
  });
  if (!got) return std::unexpected(got.error());
  return PeerCredentials{peer.pid, peer.uid, peer.gid};
}

bool readable_now(int socket) {
  pollfd p{socket, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

// Reads (and discards) one message without a control buffer, so any descriptors it carries are
// dropped by the kernel instead of landing in our table. Closing a socket with an unread message
// would make the peer's next read fail with ECONNRESET instead of showing our refusal.
void discard_one_message(int socket) {
  char scratch[256];
  (void)::recv(socket, scratch, sizeof scratch, MSG_DONTWAIT);
}

}  // namespace

void refuse(UnixSocket& socket, const std::string& reason) {
  const std::string text = std::string(kRefusedPrefix) + reason;
  (void)socket.send(std::as_bytes(std::span(text.data(), text.size())));
}

PeerPolicy PublisherState::admission_policy() const {
  return PeerPolicy{.uid = ::geteuid(), .gid = options.allowed_group};
}

void PublisherState::accept_ready() {
  for (int i = 0; i < kAcceptBatch; ++i) {
    auto socket = listener.accept();
    if (socket) {
      take_connection(std::move(*socket));
      continue;
    }
    const int err = socket.error().sys_errno();
    if (err == EAGAIN || err == EWOULDBLOCK) return;
    if (err == ECONNABORTED) continue;  // that connection is gone; the next may be fine
    if (out_of_descriptors(err) && (drop_oldest_pending() || refuse_without_descriptor())) {
      continue;
    }
    // Out of descriptors with nothing to give up, or out of memory: stop looking for a while.
    pause_accepting();
    return;
  }
}

void PublisherState::take_connection(UnixSocket socket) {
  const PeerPolicy policy = admission_policy();
  auto peer = connect_credentials(socket.fd());
  bool refused = false;
  if (!peer || !policy.admits(*peer)) {
    // A stranger costs one descriptor until it has said its hello (or timed out), and nothing
    // else: no memory region, pidfd or eventfd is made for it.
    ++counters.refused;
    refuse(socket,
           (peer ? "peer pid " + std::to_string(peer->pid) + " uid " + std::to_string(peer->uid) +
                       " gid " + std::to_string(peer->gid) + " is not allowed"
                 : peer.error().message()) +
               "; admitted: " + policy.describe());
    refused = true;
  }
  // A subscriber says hello right after connecting, so it is usually waiting already.
  if (readable_now(socket.fd())) {
    if (refused) {
      discard_one_message(socket.fd());
    } else {
      answer_hello(std::move(socket));
    }
    return;
  }
  while (pending.size() >= options.max_pending && drop_oldest_pending()) {
  }
  const std::uint64_t token = next_token++ & 0xff'ffff'ffff'ffff;
  if (!epoll_add(epoll.get(), socket.fd(), EPOLLIN | EPOLLRDHUP,
                 static_cast<std::uint64_t>(EventKind::pending) | token << 8)) {
    return;
  }
  pending.emplace(token,
                  PendingPeer{std::move(socket), Clock::now() + options.hello_timeout, refused});
  arm_timer();
}

void PublisherState::read_hello(std::uint64_t token) {
  auto found = pending.find(token);
  if (found == pending.end()) return;
  PendingPeer peer = std::move(found->second);
  pending.erase(found);
  // Dropping the socket (on every path but admission) closes it, which removes it from epoll.
  (void)epoll_ctl(epoll.get(), EPOLL_CTL_DEL, peer.socket.fd(), nullptr);
  resume_accepting();
  if (peer.refused) {
    discard_one_message(peer.socket.fd());
    return;
  }
  answer_hello(std::move(peer.socket));
}

void PublisherState::answer_hello(UnixSocket socket) {
  const PeerPolicy policy = admission_policy();
  auto hello = socket.receive(policy, 256);
  if (!hello) {
    if (hello.error().code() == Errc::rejected) {
      ++counters.refused;
      refuse(socket, hello.error().message() + "; admitted: " + policy.describe());
    }
    return;
  }
  const std::string_view text(reinterpret_cast<const char*>(hello->payload.data()),
                              hello->payload.size());
  if ((text != kHello && text != kHelloFenced) || !hello->fds.empty()) {
    ++counters.refused;
    refuse(socket, "unexpected hello");
    return;
  }
  if (auto admitted = admit(std::move(socket), hello->sender.pid, text == kHelloFenced);
      !admitted) {
    ++counters.refused;
  }
}

bool PublisherState::drop_oldest_pending() {
  if (pending.empty()) return false;
  // Closing the socket takes it out of the epoll set.
  pending.erase(pending.begin());
  ++counters.silent;
  resume_accepting();
  return true;
}

bool PublisherState::refuse_without_descriptor() {
  if (!reserve.valid()) return false;
  reserve.reset();
  bool taken = false;
  {
    auto socket = listener.accept();
    if (socket) {
      ++counters.refused;
      refuse(*socket, "the publisher of channel '" + name + "' is out of file descriptors");
      discard_one_message(socket->fd());
    }
    taken = socket.has_value() || socket.error().sys_errno() == EAGAIN;
  }  // the connection is closed here, and its slot free again for the spare
  auto spare = Fd::open("/dev/null", O_RDONLY);
  if (spare) reserve = std::move(*spare);
  return taken;
}

void PublisherState::pause_accepting() {
  if (accept_paused_until) return;
  epoll_event none{};
  none.data.u64 = event_data(EventKind::listener, 0, 0);
  (void)::epoll_ctl(epoll.get(), EPOLL_CTL_MOD, listener.fd(), &none);
  accept_paused_until = Clock::now() + kAcceptPause;
  arm_timer();
}

void PublisherState::resume_accepting() {
  if (!accept_paused_until) return;
  accept_paused_until.reset();
  epoll_event readable{};
  readable.events = EPOLLIN;
  readable.data.u64 = event_data(EventKind::listener, 0, 0);
  (void)::epoll_ctl(epoll.get(), EPOLL_CTL_MOD, listener.fd(), &readable);
}

void PublisherState::timer_fired() {
  drain_eventfd(timer.get());  // a timerfd reads like an eventfd: 8 bytes, the expirations
  timer_at.reset();
  const Clock::time_point now = Clock::now();
  // Tokens grow with time and every deadline is the same span after its connection, so the
  // expired ones are at the front.
  bool expired = false;
  while (!pending.empty() && pending.begin()->second.deadline <= now) {
    pending.erase(pending.begin());
    ++counters.silent;
    expired = true;
  }
  if (expired || (accept_paused_until && *accept_paused_until <= now)) resume_accepting();
  arm_timer();
}

void PublisherState::arm_timer() {
  std::optional<Clock::time_point> next;
  if (!pending.empty()) next = pending.begin()->second.deadline;
  if (accept_paused_until && (!next || *accept_paused_until < *next)) next = accept_paused_until;
  // Already armed for that time or earlier: a timer that fires early only re-arms.
  if (!next || (timer_at && *timer_at <= *next)) return;
  set_timerfd(timer.get(), *next);
  timer_at = next;
}

}  // namespace zc::detail
