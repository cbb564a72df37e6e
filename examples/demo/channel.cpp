// `zcopy demo` section 7: a named channel with three subscriber processes, one of which is killed
// mid-stream. Payloads are written once, in place; only descriptors move; the dead subscriber's
// chunks come back to the pool.
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <vector>

#include "bench/support/process.hpp"
#include "bench/support/table.hpp"
#include "examples/demo/sections.hpp"
#include "zcopy/channel/publisher.hpp"
#include "zcopy/channel/subscriber.hpp"
#include "zcopy/core/transfer_ledger.hpp"
#include "zcopy/core/units.hpp"

namespace zc::demo {
namespace {

using bench::Table;

using namespace std::chrono_literals;

constexpr std::size_t kMessageBytes = 4096;
constexpr std::size_t kSubscribers = 3;

// The first word is the sequence, the rest a pattern derived from it: a torn or stale chunk fails.
void write_message(std::span<std::byte> chunk, std::uint64_t sequence) {
  std::uint64_t word = sequence;
  for (std::size_t offset = 0; offset + sizeof word <= kMessageBytes; offset += sizeof word) {
    std::memcpy(chunk.data() + offset, &word, sizeof word);
    word = word * 6364136223846793005ULL + 1442695040888963407ULL;
  }
}

bool message_intact(std::span<const std::byte> bytes, std::uint64_t sequence) {
  if (bytes.size() != kMessageBytes) return false;
  std::uint64_t word = sequence;
  for (std::size_t offset = 0; offset + sizeof word <= kMessageBytes; offset += sizeof word) {
    std::uint64_t seen = 0;
    std::memcpy(&seen, bytes.data() + offset, sizeof seen);
    if (seen != word) return false;
    word = word * 6364136223846793005ULL + 1442695040888963407ULL;
  }
  return true;
}

// A subscriber process: everything in order and intact until the end of the stream, or exit 1.
int subscribe(const std::string& name, std::uint64_t expected_count) {
  auto subscriber = Subscriber::connect(name, 5s);
  if (!subscriber) return 2;
  std::uint64_t next = 0;
  for (;;) {
    auto sample = subscriber->receive(5s);
    if (!sample) return sample.error().code() == Errc::closed && next == expected_count ? 0 : 3;
    if (sample->sequence() != next || !message_intact(sample->bytes(), next)) return 4;
    ++next;
  }
}

}  // namespace

Result<void> demo_channel(const DemoSettings& settings) {
  const std::uint64_t count = std::max<std::uint64_t>(settings.messages / 5, 1000);
  demo_heading(
      7, "A channel: one publisher, three subscriber processes, one killed mid-stream",
      "Each message is written once into shared memory the subscribers map read-only; only "
      "a\n   descriptor moves. A subscriber killed with SIGKILL is noticed through its pidfd "
      "and its chunks\n   return to the pool.");
  const std::string name = "zcopy-demo-" + std::to_string(::getpid());
  ChannelOptions options;
  options.chunk_size = kMessageBytes;
  options.chunk_count = 256;
  options.timeout = 5000ms;
  auto publisher = Publisher::create(name, options);
  if (!publisher) return std::unexpected(publisher.error());

  std::vector<bench::Process> subscribers;
  for (std::size_t i = 0; i < kSubscribers; ++i) {
    auto child = bench::Process::fork([&] { return subscribe(name, count); });
    if (!child) return std::unexpected(child.error());
    subscribers.push_back(std::move(*child));
  }
  if (auto joined = publisher->wait_for_subscribers(kSubscribers, 5000ms); !joined)
    return std::unexpected(joined.error());

  const CpuStopwatch clock;
  for (std::uint64_t sequence = 0; sequence < count; ++sequence) {
    if (sequence == count / 3) subscribers.back().kill();
    auto loan = publisher->loan();
    if (!loan) return std::unexpected(loan.error());
    write_message(loan->bytes(), sequence);
    if (auto published = publisher->publish(std::move(*loan), kMessageBytes); !published)
      return std::unexpected(published.error());
  }
  publisher->close();
  for (std::size_t i = 0; i + 1 < kSubscribers; ++i) {
    if (auto done = subscribers[i].expect_success("channel subscriber"); !done)
      return std::unexpected(done.error());
  }
  const double elapsed_ns = clock.wall_s() * 1e9;
  // Let the publisher notice the killed subscriber and take its chunks back.
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while (publisher->pool().stats().loaned != 0 && std::chrono::steady_clock::now() < deadline) {
    publisher->service();
    ::usleep(1000);
  }
  const PublisherStats stats = publisher->stats();
  const PoolStats pool = publisher->pool().stats();

  const double seconds = elapsed_ns / 1e9;
  char rate[48];
  std::snprintf(rate, sizeof rate, "%.2f M msg/s, %s", static_cast<double>(count) / seconds / 1e6,
                format_rate(static_cast<double>(count * kMessageBytes) / seconds).c_str());
  Table table({"published", "message", "rate (every byte written and verified)",
               "bytes copied by a CPU", "departed (1 killed)", "chunk refs reclaimed",
               "pool free after"});
  table.add_row({std::to_string(stats.published), format_bytes(kMessageBytes), rate,
                 "0 B beyond writing each message once", std::to_string(stats.died + stats.left),
                 std::to_string(stats.reclaimed),
                 std::to_string(pool.free) + " of " + std::to_string(pool.chunk_count)});
  table.print(stdout);
  std::printf("\n   The two surviving subscribers read all %llu messages in order and intact.\n",
              static_cast<unsigned long long>(count));
  if (pool.loaned != 0)
    return fail(Errc::corrupt, "channel demo", "chunks leaked after a subscriber died");
  return {};
}

}  // namespace zc::demo
