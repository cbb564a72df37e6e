// Subscriber::connect: the admission handshake. Connect (retrying until a publisher listens),
// say hello with our credentials, and validate everything the welcome carries before using it.
#include <poll.h>
#include <sys/epoll.h>

#include <string>
#include <thread>

#include "handshake.hpp"
#include "remote_fence.hpp"
#include "subscriber_state.hpp"
#include "zcopy/channel/subscriber.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc {
namespace {

std::unexpected<Error> wrap(Error error, const std::string& op) {
  return std::unexpected(std::move(error).with_context(op));
}

Result<UnixSocket> connect_when_listening(const std::string& address, Clock::time_point deadline) {
  for (;;) {
    auto socket = UnixSocket::connect(address);
    if (socket) return socket;
    const int err = socket.error().sys_errno();
    if ((err != ECONNREFUSED && err != ENOENT) || Clock::now() >= deadline) return socket;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

Result<Subscriber> Subscriber::connect(std::string_view name, std::chrono::milliseconds timeout,
                                       const SubscriberOptions& options) {
  const std::string op = "Subscriber::connect(" + std::string(name) + ")";
  if (!valid_channel_name(name)) {
    return fail(Errc::invalid_argument, op, "a channel name is 1-80 of [A-Za-z0-9._-]");
  }
  const auto deadline = Clock::now() + timeout;
  auto socket = connect_when_listening(channel_address(name), deadline);
  if (!socket) return wrap(std::move(socket.error()), op);
  // Registered, we look for a waiting publisher with a plain load after every take and return,
  // and the publisher fences us before it sleeps (see "Sleeping" in publisher.cpp).
  const std::string_view hello =
      detail::register_for_remote_fences() ? detail::kHelloFenced : detail::kHello;
  if (auto sent = socket->send(std::as_bytes(std::span(hello.data(), hello.size()))); !sent) {
    return wrap(std::move(sent.error()), op);
  }
  pollfd p{socket->fd(), POLLIN, 0};
  auto ready =
      sys_call({"poll", socket->fd()}, [&] { return ::poll(&p, 1, remaining_ms(deadline)); });
  if (!ready) return wrap(std::move(ready.error()), op);
  if (*ready == 0) {
    return fail(Errc::timeout, op,
                "not admitted within " + std::to_string(timeout.count()) +
                    " ms (is the publisher servicing its channel?)");
  }
  const PeerPolicy policy{.uid = options.publisher_uid, .gid = options.publisher_group};
  auto welcome = socket->receive(policy, 1024);
  if (!welcome) return wrap(std::move(welcome.error()), op);
  const std::string_view text(reinterpret_cast<const char*>(welcome->payload.data()),
                              welcome->payload.size());
  if (text.starts_with(detail::kRefusedPrefix)) {
    return fail(Errc::rejected, op, std::string(text.substr(detail::kRefusedPrefix.size())));
  }
  if (text != detail::kWelcome || welcome->fds.size() != detail::kWelcomeFdCount) {
    return fail(Errc::corrupt, op, "the publisher's welcome is malformed");
  }
  auto& fds = welcome->fds;
  auto pool = Region::attach(std::move(fds[detail::kPoolFd]), Access::read_only);
  if (!pool) return wrap(std::move(pool.error()), op);
  auto pool_geometry = validate_pool_header(pool->bytes());
  if (!pool_geometry) return wrap(std::move(pool_geometry.error()), op);
  auto control = Region::attach(std::move(fds[detail::kControlFd]), Access::read_write);
  if (!control) return wrap(std::move(control.error()), op);
  auto geometry = validate_channel_header(control->bytes());
  if (!geometry) return wrap(std::move(geometry.error()), op);
  if (geometry->chunk_size != pool_geometry->chunk_size ||
      geometry->chunk_count != pool_geometry->chunk_count) {
    return fail(Errc::corrupt, op,
                "channel header and payload pool disagree on the chunk geometry");
  }
  // ESRCH: the publisher already exited (it may have published, closed and gone before we read
  // its welcome); what it left in shared memory can still be drained.
  auto pidfd = open_pidfd(welcome->sender.pid);
  if (!pidfd && pidfd.error().sys_errno() != ESRCH) return wrap(std::move(pidfd.error()), op);
  auto epoll = make_epoll();
  if (!epoll) return wrap(std::move(epoll.error()), op);

  auto state = std::make_unique<detail::SubscriberState>(std::move(*socket), std::move(*pool),
                                                         std::move(*control));
  auto releases = SpscRing<std::uint32_t>::attach(state->control.bytes().subspan(
      geometry->release_offset, SpscRing<std::uint32_t>::bytes_for(geometry->release_capacity)));
  if (!releases) return wrap(std::move(releases.error()), op);
  state->releases.emplace(std::move(*releases));
  std::byte* base = state->control.data();
  state->ctl = std::launder(reinterpret_cast<ChannelControl*>(base + geometry->control_offset));
  state->slots =
      std::launder(reinterpret_cast<DescriptorSlot*>(base + geometry->descriptor_offset));
  state->geometry = *geometry;
  state->pool_geometry = *pool_geometry;
  state->wake = std::move(fds[detail::kSubscriberWakeFd]);
  state->publisher_wake = std::move(fds[detail::kPublisherWakeFd]);
  if (pidfd) {
    state->pidfd = std::move(*pidfd);
  } else {
    state->publisher_dead = true;
  }
  state->epoll = std::move(*epoll);
  state->options = options;
  state->spin_budget = options.spin_count;
  state->publisher_pid = welcome->sender.pid;
  for (int fd : {state->wake.get(), state->pidfd.get()}) {
    if (fd < 0) continue;
    if (auto added = epoll_add(state->epoll.get(), fd, EPOLLIN, 0); !added) {
      return wrap(std::move(added.error()), op);
    }
  }
  return Subscriber(std::move(state));
}

}  // namespace zc
