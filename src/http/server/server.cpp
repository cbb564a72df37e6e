#include "zcopy/http/server/server.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <mutex>
#include <thread>
#include <vector>

#include "event_loop.hpp"
#include "server_state.hpp"
#include "zcopy/net/tcp.hpp"

namespace zc::http {

void SharedState::log_error(const std::string& line) const {
  if (options.error_log_fd < 0) return;
  const std::string text = line + "\n";
  [[maybe_unused]] const ssize_t n = ::write(options.error_log_fd, text.data(), text.size());
}

struct Server::State {
  SharedState shared;
  net::SocketAddress address;
  std::string method_note;
  CpuStopwatch stopwatch;
  std::vector<std::unique_ptr<EventLoop>> loops;
  std::vector<std::thread> threads;
  bool stopped = false;
  std::mutex stop_mutex;  // serialises stop()
};

Server::Server(std::unique_ptr<State> state) : state_(std::move(state)) {}

Server::~Server() {
  stop();
}

Result<std::unique_ptr<Server>> Server::start(const ServerOptions& options) {
  auto state = std::make_unique<State>();
  SharedState& shared = state->shared;
  shared.options = options;
  if (shared.options.threads == 0) {
    shared.options.threads = std::max(1U, std::thread::hardware_concurrency());
  }
  if (shared.options.chunk_bytes == 0) shared.options.chunk_bytes = 2 * 1024 * 1024;
  auto method = net::choose(options.method);
  if (!method) return std::unexpected(method.error());
  shared.method = method->method;
  state->method_note = method->note;
  auto root = Fd::open(options.root, O_PATH | O_DIRECTORY);
  if (!root) return std::unexpected(std::move(root.error()).with_context("serve"));
  shared.root = std::move(*root);
  shared.access_log.set_fd(options.access_log_fd);
  if (options.tls) {
    auto context = secure::ServerContext::load(*options.tls);
    if (!context) return std::unexpected(context.error());
    shared.tls.emplace(std::move(*context));
    state->method_note =
        "TLS 1.3 records sealed from the page cache into pinned buffers and sent zero-copy; "
        "TLS 1.2 through SSL_write (one more copy)";
  }
  if (options.repr_digest) {
    shared.digests = std::make_unique<DigestCache>(options.digest_inline_limit);
  }

  // One listener per loop, grouped by SO_REUSEPORT so the kernel spreads connections over the
  // loops; the group admits no other server, so a second one on this port fails here.
  const net::ListenOptions listen{.backlog = 4096, .nonblocking = true};
  auto listeners = net::listen_tcp_group(options.bind, shared.options.threads, listen);
  if (!listeners) return std::unexpected(listeners.error());
  auto bound = net::local_address(listeners->front().get());
  if (!bound) return std::unexpected(bound.error());
  state->address = *bound;
  for (Fd& listener : *listeners) {
    auto loop = EventLoop::create(shared, std::move(listener));
    if (!loop) return std::unexpected(loop.error());
    state->loops.push_back(std::move(*loop));
  }
  state->stopwatch = CpuStopwatch();
  for (auto& loop : state->loops) {
    state->threads.emplace_back([raw = loop.get()] { raw->run(); });
  }
  return std::unique_ptr<Server>(new Server(std::move(state)));
}

std::uint16_t Server::port() const noexcept {
  return state_->address.port();
}

std::string Server::url() const {
  return (state_->shared.tls ? "https://" : "http://") + state_->address.str() + "/";
}

net::FileSendMethod Server::method() const noexcept {
  return state_->shared.method;
}

const std::string& Server::method_note() const noexcept {
  return state_->method_note;
}

void Server::stop() {
  std::lock_guard lock(state_->stop_mutex);
  if (state_->stopped) return;
  state_->stopped = true;
  for (auto& loop : state_->loops) loop->stop();
  for (auto& thread : state_->threads) thread.join();
}

ServerStats Server::stats() const noexcept {
  const SharedState& s = state_->shared;
  constexpr auto relaxed = std::memory_order_relaxed;
  return {.connections_accepted = s.accepted.load(relaxed),
          .connections_open = s.open_connections.load(relaxed),
          .connections_rejected = s.rejected.load(relaxed),
          .requests = s.requests.load(relaxed),
          .timeouts = s.timeouts.load(relaxed),
          .truncated_files = s.truncated.load(relaxed)};
}

TransferLedger Server::ledger() const {
  TransferLedger ledger{
      .method = state_->shared.tls ? "tls" : std::string(to_string(state_->shared.method))};
  state_->shared.ledger.read_into(ledger);
  state_->stopwatch.stop_into(ledger);
  return ledger;
}

}  // namespace zc::http
