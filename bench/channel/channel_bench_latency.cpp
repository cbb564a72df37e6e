// Round-trip latency between two processes: a ping of `size` bytes written in full, read in full
// by the other side, which answers with a pong of the same size. Each round trip is timed whole.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "bench/channel/channel_bench_harness.hpp"
#include "bench/support/process.hpp"
#include "bench/support/stats.hpp"
#include "zcopy/channel/publisher.hpp"
#include "zcopy/channel/subscriber.hpp"
#include "zcopy/core/fd.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc::bench {
namespace {

volatile std::uint64_t g_sink = 0;  // keeps the reads of payloads alive

bool write_all(int fd, std::span<const std::byte> bytes) {
  while (!bytes.empty()) {
    auto n = sys_call({"write", fd}, [&] { return ::write(fd, bytes.data(), bytes.size()); });
    if (!n) return false;
    bytes = bytes.subspan(static_cast<std::size_t>(*n));
  }
  return true;
}

bool read_all(int fd, std::span<std::byte> bytes) {
  std::size_t filled = 0;
  while (filled < bytes.size()) {
    auto n = sys_call({"read", fd},
                      [&] { return ::read(fd, bytes.data() + filled, bytes.size() - filled); });
    if (!n || *n == 0) return false;
    filled += static_cast<std::size_t>(*n);
  }
  return true;
}

// The floors under any shared-memory channel, per direction a sequence number the reader spins on
// and a payload; the writer fills the payload, then stores the sequence with release; the reader
// spins on the sequence with acquire, then reads the payload.
//
// floor: the payload follows the sequence, as in a log-buffer design. A 64-byte message moves the
// sequence's line and 8 bytes of the next, the other half of the same 128-byte pair, whose address
// the reader knows beforehand; nothing else. No channel with descriptors, pools or releases can
// beat this.
//
// floor-2line: the line the reader spins on holds the sequence and an offset naming where the
// payload is, in a buffer of its own (a page away, so no prefetcher pairs the two lines); the
// reader loads the payload from that offset. The writer cycles through as many buffers as a
// ping-pong channel has chunks. Each hop moves two lines, the second only once the first has
// arrived: what a channel whose descriptor names its chunk cannot go below (zcopy moves more than
// these two lines per message only occasionally: tail, release ring, see docs/PERFORMANCE.md).
struct FloorSlot {
  alignas(64) std::atomic<std::uint64_t> sequence;
  // floor: the payload bytes follow (a 64-byte payload ends 8 bytes into the next line, the
  // other half of the same 128-byte pair). floor-2line: the payload's offset from the mapping's
  // start.
  std::atomic<std::uint64_t> offset;
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
constexpr std::size_t kFloorBuffers = 8;  // as many as ping_pong_options() gives a channel

Result<LatencyFigures> floor_ping_pong(std::uint64_t size, const BenchTiming& timing,
                                       bool two_lines) {
  constexpr std::size_t kPage = 4096;
  // Room for the payload beside the sequence (floor), or for the sequence and offset alone.
  const std::size_t slot_bytes = two_lines ? 128 : (sizeof(std::uint64_t) + size + 127) / 128 * 128;
  const std::size_t buffer_bytes = (size + 127) / 128 * 128;
  // floor-2line: the slots, then a page on, the ping buffers and the pong buffers.
  const std::size_t buffers_at = (2 * slot_bytes + kPage - 1) / kPage * kPage + kPage;
  const std::size_t total =
      two_lines ? buffers_at + 2 * kFloorBuffers * buffer_bytes : 2 * slot_bytes;
  void* memory = ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return fail_errno(errno, "mmap(floor ping-pong)");
  struct Unmap {
    void* memory;
    std::size_t bytes;
    ~Unmap() { ::munmap(memory, bytes); }
  } unmap{memory, total};
  auto* bytes = static_cast<std::byte*>(memory);
  auto* ping = ::new (bytes) FloorSlot{};
  auto* pong = ::new (bytes + slot_bytes) FloorSlot{};
  // Where the writer puts message `sequence` into `slot`'s direction (the offset it announces).
  auto offset_for = [&](const FloorSlot* slot, std::uint64_t sequence) -> std::size_t {
    if (!two_lines) {
      return static_cast<std::size_t>(reinterpret_cast<const std::byte*>(slot) - bytes) +
             sizeof(std::uint64_t);
    }
    const std::size_t direction = slot == ping ? 0 : kFloorBuffers;
    return buffers_at + (direction + sequence % kFloorBuffers) * buffer_bytes;
  };
  auto payload_at = [&](std::size_t offset) {
    return std::span<std::byte>(bytes + offset, static_cast<std::size_t>(size));
  };
  auto send = [&](FloorSlot* slot, std::uint64_t sequence, std::uint64_t message) {
    const std::size_t offset = offset_for(slot, sequence);
    fill(payload_at(offset), message);
    if (two_lines) slot->offset.store(offset, std::memory_order_relaxed);
    // SYNC POINT (pairs with the reader's acquire load in receive): publishes the payload and
    // the offset.
    slot->sequence.store(sequence, std::memory_order_release);
  };
  // After the sequence is seen: the payload, from where the slot says it is (floor-2line: a load
  // that depends on the slot's line, as a descriptor's chunk index does).
  auto receive = [&](const FloorSlot* slot, std::uint64_t sequence) {
    const std::size_t offset =
        two_lines ? static_cast<std::size_t>(slot->offset.load(std::memory_order_relaxed))
                  : offset_for(slot, sequence);
    g_sink = g_sink + sum(payload_at(offset));
  };
  constexpr std::uint64_t kStop = UINT64_MAX;
  auto child = Process::fork([&] {
    for (std::uint64_t expected = 1;; ++expected) {
      std::uint64_t seen;
      // SYNC POINT (pairs with the parent's release store of ping->sequence): the ping's payload
      // and offset are complete once its sequence is visible.
      while ((seen = ping->sequence.load(std::memory_order_acquire)) < expected) spin_pause();
      if (seen == kStop) return 0;
      receive(ping, expected);
      send(pong, expected, expected);
    }
  });
  if (!child) return std::unexpected(child.error());
  std::uint64_t sequence = 0;
  auto figures = time_round_trips(timing, [&](std::uint64_t message) {
    ++sequence;
    send(ping, sequence, message);
    // SYNC POINT (pairs with the child's release store of pong->sequence).
    while (pong->sequence.load(std::memory_order_acquire) != sequence) spin_pause();
    receive(pong, sequence);
    return true;
  });
  ping->sequence.store(kStop, std::memory_order_release);
  if (auto waited = child->expect_success("ping-pong peer"); !waited)
    return std::unexpected(waited.error());
  return figures;
}

// `ping` carries pings to the child (read end, write end), `pong` carries answers back.
Result<LatencyFigures> over_streams(std::uint64_t size, const BenchTiming& timing, Fd ping_read,
                                    Fd ping_write, Fd pong_read, Fd pong_write) {
  auto child = Process::fork([&] {
    ping_write.reset();
    pong_read.reset();
    std::vector<std::byte> buffer(size);
    for (std::uint64_t message = 0;; ++message) {
      if (!read_all(ping_read.get(), buffer)) return 0;  // the pinger is done
      g_sink = g_sink + sum(buffer);
      fill(buffer, message);
      if (!write_all(pong_write.get(), buffer)) return 1;
    }
  });
  if (!child) return std::unexpected(child.error());
  ping_read.reset();
  pong_write.reset();
  std::vector<std::byte> buffer(size);
  auto figures = time_round_trips(timing, [&](std::uint64_t message) {
    fill(buffer, message);
    if (!write_all(ping_write.get(), buffer) || !read_all(pong_read.get(), buffer)) return false;
    g_sink = g_sink + sum(buffer);
    return true;
  });
  ping_write.reset();  // end of stream for the peer (both, as a socket pair shares one end)
  pong_read.reset();
  if (auto waited = child->expect_success("ping-pong peer"); !waited)
    return std::unexpected(waited.error());
  return figures;
}

Result<LatencyFigures> unix_sockets(std::uint64_t size, const BenchTiming& timing) {
  int a[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, a) != 0)
    return fail_errno(errno, "socketpair");
  // One bidirectional pair: each end is both the read end of one direction and the write end of
  // the other, so dup them to hand each role its own descriptor.
  const int a0 = ::dup(a[0]);
  const int a1 = ::dup(a[1]);
  if (a0 < 0 || a1 < 0) return fail_errno(errno, "dup");
  return over_streams(size, timing, Fd::adopt(a[1]), Fd::adopt(a[0]), Fd::adopt(a0), Fd::adopt(a1));
}

Result<LatencyFigures> pipes(std::uint64_t size, const BenchTiming& timing) {
  int ping[2];
  int pong[2];
  if (::pipe2(ping, O_CLOEXEC) != 0 || ::pipe2(pong, O_CLOEXEC) != 0)
    return fail_errno(errno, "pipe2");
  return over_streams(size, timing, Fd::adopt(ping[0]), Fd::adopt(ping[1]), Fd::adopt(pong[0]),
                      Fd::adopt(pong[1]));
}

ChannelOptions ping_pong_options(std::uint64_t size) {
  ChannelOptions options;
  options.chunk_size = static_cast<std::size_t>(size);
  options.chunk_count = 8;
  options.queue_depth = 4;
  options.timeout = std::chrono::seconds(10);
  return options;
}

// The next message. Busy-poll calls try_receive() until one is there (so the end of the stream is
// seen at once, which a receive() with an endless spin count would not); otherwise receive()
// sleeps on the eventfd after the subscriber's spin count.
Result<Sample> next_message(Subscriber& subscriber, bool busy) {
  if (!busy) return subscriber.receive(std::chrono::seconds(10));
  for (;;) {
    auto sample = subscriber.try_receive();
    if (!sample) return std::unexpected(std::move(sample.error()));
    if (*sample) return std::move(**sample);
    spin_pause();
  }
}

// Two channels, one each way. Busy: both sides poll; otherwise the subscribers' spin count is 0,
// so every message is a sleep on the eventfd and a wake-up by the publisher.
Result<LatencyFigures> channels(std::uint64_t size, const BenchTiming& timing, bool busy) {
  const std::uint32_t spin_count = 0;
  static int counter = 0;
  const std::string base =
      "zcopy-bench-lat-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  const std::string ping_name = base + "-ping";
  const std::string pong_name = base + "-pong";
  const SubscriberOptions sub_options{.spin_count = spin_count};
  const auto wait = std::chrono::seconds(10);
  auto child = Process::fork([&] {
    // Join the pings first (the parent admits us), then offer the pongs.
    auto pings = Subscriber::connect(ping_name, wait, sub_options);
    if (!pings) return 1;
    auto pongs = Publisher::create(pong_name, ping_pong_options(size));
    if (!pongs || !pongs->wait_for_subscribers(1, wait)) return 1;
    for (std::uint64_t message = 0;; ++message) {
      auto ping = next_message(*pings, busy);
      if (!ping) return ping.error().code() == Errc::closed ? 0 : 1;
      g_sink = g_sink + sum(ping->bytes());
      ping->reset();
      auto loan = pongs->loan();
      if (!loan) return 1;
      fill(loan->bytes().first(static_cast<std::size_t>(size)), message);
      if (!pongs->publish(std::move(*loan), static_cast<std::size_t>(size))) return 1;
    }
  });
  if (!child) return std::unexpected(child.error());
  auto pings = Publisher::create(ping_name, ping_pong_options(size));
  if (!pings) return std::unexpected(pings.error());
  if (auto joined = pings->wait_for_subscribers(1, wait); !joined)
    return std::unexpected(joined.error());
  auto pongs = Subscriber::connect(pong_name, wait, sub_options);
  if (!pongs) return std::unexpected(pongs.error());
  auto figures = time_round_trips(timing, [&](std::uint64_t message) {
    auto loan = pings->loan();
    if (!loan) return false;
    fill(loan->bytes().first(static_cast<std::size_t>(size)), message);
    if (!pings->publish(std::move(*loan), static_cast<std::size_t>(size))) return false;
    auto pong = next_message(*pongs, busy);
    if (!pong) return false;
    g_sink = g_sink + sum(pong->bytes());
    return true;
  });
  pings->close();
  // Keep our pong subscription until the peer has seen the end and left.
  if (auto waited = child->expect_success("ping-pong peer"); !waited)
    return std::unexpected(waited.error());
  return figures;
}

}  // namespace

const std::vector<std::string>& latency_methods() {
  static const std::vector<std::string> methods{"floor",      "floor-2line",  "zcopy-busy",
                                                "zcopy-wake", "iceoryx-busy", "iceoryx-wake",
                                                "unix",       "pipe"};
  return methods;
}

Result<LatencyFigures> measure_latency(const std::string& method, std::uint64_t size,
                                       const BenchTiming& timing) {
  if (method == "floor") return floor_ping_pong(size, timing, false);
  if (method == "floor-2line") return floor_ping_pong(size, timing, true);
  if (method == "zcopy-busy") return channels(size, timing, true);
  if (method == "zcopy-wake") return channels(size, timing, false);
  if (method == "iceoryx-busy") return iceoryx_latency(size, timing, true);
  if (method == "iceoryx-wake") return iceoryx_latency(size, timing, false);
  if (method == "unix") return unix_sockets(size, timing);
  if (method == "pipe") return pipes(size, timing);
  return fail(Errc::invalid_argument, "channel bench", "unknown method " + method);
}

}  // namespace zc::bench
