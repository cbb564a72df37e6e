// The publisher's peers: admitting subscribers by credentials, handing them their descriptors,
// and reclaiming every chunk a subscriber held when it leaves, dies or corrupts its queue.
#include <sys/epoll.h>
#include <unistd.h>

#include <array>
#include <string>

#include "handshake.hpp"
#include "publisher_state.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc::detail {
namespace {

// What one subscriber costs in descriptors, made before anything is sent to it.
struct SubscriberResources {
  Region control;  // its control region
  Fd shared;       // a read-write descriptor of `control`, to send
  Fd pidfd;        // its process
  Fd wake;         // its eventfd
};

Result<SubscriberResources> open_resources(const std::string& name, const ChannelGeometry& g,
                                           pid_t pid) {
  auto control = Region::create_shared(g.total_bytes, {.name = "zcopy-channel-" + name});
  if (!control) return std::unexpected(std::move(control.error()));
  auto shared = control->share(Access::read_write);
  if (!shared) return std::unexpected(std::move(shared.error()));
  auto pidfd = open_pidfd(pid);
  if (!pidfd) return std::unexpected(std::move(pidfd.error()));
  auto wake = make_eventfd();
  if (!wake) return std::unexpected(std::move(wake.error()));
  return SubscriberResources{std::move(*control), std::move(*shared), std::move(*pidfd),
                             std::move(*wake)};
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
        accept_ready();
        break;
      case EventKind::timer:
        timer_fired();
        break;
      case EventKind::wake: {
        // The counter is the number of signals since the last read: every subscriber wake-up.
        std::uint64_t signals = 0;
        if (::read(wake.get(), &signals, sizeof signals) == sizeof signals) {
          counters.wakeups += signals;
        }
        break;
      }
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

Result<void> PublisherState::admit(UnixSocket socket, pid_t pid, bool fenced) {
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
  if (fenced) g.remote_fences |= kSubscriberFenced;
  // Silent connections give way to a subscriber that has spoken, one descriptor at a time.
  auto resources = open_resources(name, g, pid);
  while (!resources && out_of_descriptors(resources.error().sys_errno()) && drop_oldest_pending()) {
    resources = open_resources(name, g, pid);
  }
  if (!resources) {
    refuse(socket, resources.error().message());
    return std::unexpected(std::move(resources.error()).with_context(op));
  }
  initialise_channel_region(resources->control.bytes(), g);
  auto link = std::make_unique<SubscriberLink>(std::move(socket), std::move(resources->control));
  std::byte* base = link->control.data();
  link->ctl = std::launder(reinterpret_cast<ChannelControl*>(base + g.control_offset));
  link->slots = std::launder(reinterpret_cast<DescriptorSlot*>(base + g.descriptor_offset));
  auto releases = SpscRing<std::uint32_t>::attach(link->control.bytes().subspan(g.release_offset));
  if (!releases) return std::unexpected(std::move(releases.error()).with_context(op));
  link->releases.emplace(std::move(*releases));
  link->pidfd = std::move(resources->pidfd);
  link->wake = std::move(resources->wake);
  link->pid = pid;
  link->fenced = fenced;
  link->generation = next_generation++;
  link->sent.assign(g.queue_depth, 0);
  link->held.assign(g.chunk_count, 0);
  if (closed) link->ctl->closed.store(1, std::memory_order_release);

  const std::array<int, kWelcomeFdCount> fds{pool_readonly.get(), resources->shared.get(),
                                             link->wake.get(), wake.get()};
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
  links_end = std::max(links_end, slot + 1);
  ++subscribers;
  return {};
}

void PublisherState::remove(std::size_t slot, Departure why) {
  std::unique_ptr<SubscriberLink> link = std::move(links[slot]);
  if (!link) return;
  --subscribers;
  while (links_end > 0 && !links[links_end - 1]) --links_end;
  // What it held goes back to the pool in one run (one move of the free list), unless a caller
  // already collects (drain_all_releases() reaching a faulted ring), which then gives back all.
  const bool collecting_already = collecting_freed;
  collecting_freed = true;
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
  if (!collecting_already) {
    collecting_freed = false;
    (void)pool.give_back_n(freed);
    freed.clear();
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
  // Closing the socket and the pidfd (as `link` goes) takes them out of the epoll set, and
  // frees descriptors for new connections.
  link.reset();
  resume_accepting();
}

}  // namespace zc::detail
