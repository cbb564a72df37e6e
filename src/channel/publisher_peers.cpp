// The publisher's peers: admitting subscribers by credentials, handing them their descriptors,
// and reclaiming every chunk a subscriber held when it leaves, dies or corrupts its queue.
#include <sys/epoll.h>

#include <array>
#include <string>

#include "handshake.hpp"
#include "publisher_state.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc::detail {
namespace {

void refuse(UnixSocket& socket, const std::string& reason) {
  const std::string text = std::string(kRefusedPrefix) + reason;
  (void)socket.send(std::as_bytes(std::span(text.data(), text.size())));
}

}  // namespace

void PublisherState::handle_events(int timeout_ms) {
  std::array<epoll_event, 32> events{};
  auto ready = sys_call({"epoll_wait", epoll.get()}, [&] {
    return ::epoll_wait(epoll.get(), events.data(), static_cast<int>(events.size()), timeout_ms);
  });
  if (!ready) return;
  for (int i = 0; i < *ready; ++i) {
    const std::uint64_t data = events[static_cast<std::size_t>(i)].data.u64;
    const auto kind = static_cast<EventKind>(data & 0xff);
    const std::size_t slot = static_cast<std::size_t>((data >> 8) & 0xff'ffff);
    const auto generation = static_cast<std::uint32_t>(data >> 32);
    switch (kind) {
      case EventKind::listener:
        accept_one();
        break;
      case EventKind::wake:
        drain_eventfd(wake.get());
        break;
      case EventKind::pending:
        read_hello(data >> 8);
        break;
      case EventKind::socket:
      case EventKind::pidfd:
        // A later event for a slot that was emptied (or refilled) in this same batch is stale.
        if (slot < links.size() && links[slot] && links[slot]->generation == generation) {
          remove(slot, kind == EventKind::socket ? Departure::left : Departure::died);
        }
        break;
    }
  }
}

void PublisherState::accept_one() {
  auto socket = listener.accept();
  if (!socket) return;
  const std::uint64_t token = next_token++ & 0xff'ffff'ffff'ffff;
  if (!epoll_add(epoll.get(), socket->fd(), EPOLLIN | EPOLLRDHUP,
                 static_cast<std::uint64_t>(EventKind::pending) | token << 8)) {
    return;
  }
  pending.emplace(token, std::move(*socket));
}

void PublisherState::read_hello(std::uint64_t token) {
  auto found = pending.find(token);
  if (found == pending.end()) return;
  UnixSocket socket = std::move(found->second);
  pending.erase(found);
  // Dropping `socket` (on every path but admission) closes it, which removes it from epoll.
  (void)epoll_ctl(epoll.get(), EPOLL_CTL_DEL, socket.fd(), nullptr);
  const PeerPolicy policy{.uid = ::geteuid(), .gid = options.allowed_group};
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
  if (text != kHello || !hello->fds.empty()) {
    ++counters.refused;
    refuse(socket, "unexpected hello");
    return;
  }
  if (auto admitted = admit(std::move(socket), hello->sender.pid); !admitted) ++counters.refused;
}

Result<void> PublisherState::admit(UnixSocket socket, pid_t pid) {
  std::size_t slot = 0;
  while (slot < links.size() && links[slot]) ++slot;
  if (slot == links.size()) {
    refuse(socket,
           "channel '" + name + "' is full (" + std::to_string(links.size()) + " subscribers)");
    return fail(Errc::limit_exceeded, "admit", "full");
  }
  const std::string op = "admit subscriber pid " + std::to_string(pid);
  ChannelGeometry g = geometry;
  g.subscriber_id = static_cast<std::uint32_t>(slot);
  auto control = Region::create_shared(g.total_bytes, {.name = "zcopy-channel-" + name});
  if (!control) {
    refuse(socket, control.error().message());
    return std::unexpected(std::move(control.error()).with_context(op));
  }
  initialise_channel_region(control->bytes(), g);
  auto shared = control->share(Access::read_write);
  auto pidfd = open_pidfd(pid);
  auto subscriber_wake = make_eventfd();
  for (Error* error : {shared ? nullptr : &shared.error(), pidfd ? nullptr : &pidfd.error(),
                       subscriber_wake ? nullptr : &subscriber_wake.error()}) {
    if (error == nullptr) continue;
    refuse(socket, error->message());
    return std::unexpected(std::move(*error).with_context(op));
  }
  auto link = std::make_unique<SubscriberLink>(std::move(socket), std::move(*control));
  std::byte* base = link->control.data();
  link->ctl = std::launder(reinterpret_cast<ChannelControl*>(base + g.control_offset));
  link->slots = std::launder(reinterpret_cast<DescriptorSlot*>(base + g.descriptor_offset));
  auto releases = SpscRing<std::uint32_t>::attach(link->control.bytes().subspan(g.release_offset));
  if (!releases) return std::unexpected(std::move(releases.error()).with_context(op));
  link->releases.emplace(std::move(*releases));
  link->pidfd = std::move(*pidfd);
  link->wake = std::move(*subscriber_wake);
  link->pid = pid;
  link->generation = next_generation++;
  link->sent.assign(g.queue_depth, 0);
  link->held.assign(g.chunk_count, 0);
  if (closed) link->ctl->closed.store(1, std::memory_order_release);

  const std::array<int, kWelcomeFdCount> fds{pool_readonly.get(), shared->get(), link->wake.get(),
                                             wake.get()};
  if (auto sent =
          link->socket.send(std::as_bytes(std::span(kWelcome.data(), kWelcome.size())), fds);
      !sent) {
    return std::unexpected(std::move(sent.error()).with_context(op));
  }
  for (auto [fd, kind] : {std::pair{link->socket.fd(), EventKind::socket},
                          std::pair{link->pidfd.get(), EventKind::pidfd}}) {
    const std::uint32_t events = kind == EventKind::socket ? EPOLLIN | EPOLLRDHUP : EPOLLIN;
    if (auto added = epoll_add(epoll.get(), fd, events, event_data(kind, slot, link->generation));
        !added) {
      return std::unexpected(std::move(added.error()).with_context(op));
    }
  }
  links[slot] = std::move(link);
  return {};
}

void PublisherState::remove(std::size_t slot, Departure why) {
  std::unique_ptr<SubscriberLink> link = std::move(links[slot]);
  if (!link) return;
  // Returns it made before leaving count as returns; a faulted ring is not read again.
  if (why != Departure::faulted) {
    while (const std::uint32_t* chunk = link->releases->front()) {
      const std::uint32_t value = *chunk;
      link->releases->pop();
      take_back(*link, value);
    }
  }
  for (std::uint32_t chunk = 0; chunk < geometry.chunk_count; ++chunk) {
    if (link->held[chunk] == 0) continue;
    link->held[chunk] = 0;
    ++counters.reclaimed;
    drop_reference(chunk);
  }
  switch (why) {
    case Departure::left:
      ++counters.left;
      break;
    case Departure::died:
      ++counters.died;
      break;
    case Departure::faulted:
      ++counters.faulted;
      break;
  }
  // Closing the socket and the pidfd (as `link` goes) takes them out of the epoll set.
}

}  // namespace zc::detail
