// `zcopy demo` section 3: one buffer pool used by two processes. A child loans every chunk,
// writes in place and hands over only indices; the parent reads the chunks in place and gives
// them back; bogus returns are refused and counted.
#include "zcopy/mem/buffer_pool.hpp"

#include <unistd.h>

#include <cstring>
#include <vector>

#include "bench/support/process.hpp"
#include "bench/support/table.hpp"
#include "examples/demo/sections.hpp"
#include "zcopy/core/fd_passing.hpp"
#include "zcopy/core/units.hpp"

namespace zc::demo {
namespace {

using bench::Table;

constexpr std::size_t kChunkSize = 64 * 1024;
constexpr std::size_t kChunks = 64;

std::vector<std::string> stats_row(const char* event, const PoolStats& stats) {
  return {event, std::to_string(stats.loaned), std::to_string(stats.free),
          std::to_string(stats.high_water), std::to_string(stats.rejected_returns)};
}

// The child: attach, loan until the pool says it is exhausted, write into each chunk, and send
// the indices (never pointers: the parent maps the pool at another address).
int child_loans_everything(UnixSocket& socket) {
  auto message = socket.receive(PeerPolicy{});
  if (!message || message->fds.size() != 1) return 2;
  auto pool = BufferPool::attach(std::move(message->fds[0]));
  if (!pool) return 3;
  std::vector<std::uint32_t> indices;
  for (;;) {
    auto loan = pool->loan();
    if (!loan) {
      if (loan.error().code() != Errc::exhausted) return 4;
      break;
    }
    const std::string text = "chunk " + std::to_string(loan->index()) +
                             " written in place by pid " + std::to_string(::getpid());
    std::memcpy(loan->bytes().data(), text.c_str(), text.size() + 1);
    indices.push_back(loan->release());  // ownership travels with the index
  }
  return socket.send(std::as_bytes(std::span(indices))) ? 0 : 5;
}

}  // namespace

Result<void> demo_buffer_pool(const DemoSettings&) {
  demo_heading(3, "A buffer pool shared by two processes",
               "Chunks are addressed by index, loaned and returned lock-free across processes; "
               "a return is\n   validated, so a bogus or repeated index is refused and counted.");
  auto pool = BufferPool::create(kChunkSize, kChunks, {.name = "zcopy-demo-pool"});
  if (!pool) return std::unexpected(pool.error());
  Table table({"event", "loaned", "free", "high water", "rejected returns"});
  const std::string created =
      "created " + std::to_string(kChunks) + " x " + format_bytes(kChunkSize);
  table.add_row(stats_row(created.c_str(), pool->stats()));

  auto sockets = UnixSocket::pair();
  if (!sockets) return std::unexpected(sockets.error());
  auto child = bench::Process::fork([&] { return child_loans_everything(sockets->second); });
  if (!child) return std::unexpected(child.error());
  auto fd = pool->share();
  if (!fd) return std::unexpected(fd.error());
  const int fds[] = {fd->get()};
  if (auto sent = sockets->first.send({}, fds); !sent) return std::unexpected(sent.error());
  auto reply = sockets->first.receive(PeerPolicy{}, kChunks * sizeof(std::uint32_t));
  if (!reply) return std::unexpected(reply.error());
  if (auto done = child->expect_success("pool child"); !done) return std::unexpected(done.error());
  table.add_row(stats_row("child loaned until exhausted", pool->stats()));

  std::vector<std::uint32_t> indices(reply->payload.size() / sizeof(std::uint32_t));
  std::memcpy(indices.data(), reply->payload.data(), indices.size() * sizeof(std::uint32_t));
  std::size_t verified = 0;
  for (const std::uint32_t index : indices) {
    auto bytes = pool->chunk(index);
    if (!bytes) return std::unexpected(bytes.error());
    const std::string expected = "chunk " + std::to_string(index) + " written in place by pid ";
    if (std::memcmp(bytes->data(), expected.data(), expected.size()) == 0) ++verified;
    if (auto returned = pool->give_back(index); !returned) return std::unexpected(returned.error());
  }
  table.add_row(stats_row("parent read them in place, gave back", pool->stats()));

  const bool double_refused = !pool->give_back(indices.empty() ? 0 : indices.front());
  const bool bogus_refused = !pool->give_back(static_cast<std::uint32_t>(kChunks + 1000));
  table.add_row(stats_row("a repeated and a bogus index returned", pool->stats()));
  table.print(stdout);
  std::printf(
      "\n   %zu of %zu chunks arrived intact as indices alone; the repeated return was %s, "
      "the bogus one %s.\n",
      verified, indices.size(), double_refused ? "refused" : "ACCEPTED",
      bogus_refused ? "refused" : "ACCEPTED");
  if (indices.size() != kChunks || verified != kChunks || !double_refused || !bogus_refused)
    return fail(Errc::corrupt, "pool demo", "the pool did not behave as documented");
  return {};
}

}  // namespace zc::demo
