// `zcopy demo` section 6: a lock-free ring in shared memory between two processes, against the
// same messages written through a pipe.
#include <unistd.h>

#include <cstring>

#include "bench/support/process.hpp"
#include "bench/support/table.hpp"
#include "examples/demo/sections.hpp"
#include "zcopy/core/transfer_ledger.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/mem/region.hpp"
#include "zcopy/ring/spsc_ring.hpp"

namespace zc::demo {
namespace {

using bench::Table;

// A 64-byte message whose last word checks the others, so a torn read cannot go unnoticed.
struct DemoMessage {
  std::uint64_t sequence;
  std::uint64_t payload[6];
  std::uint64_t check;

  static DemoMessage make(std::uint64_t sequence) {
    DemoMessage m{};
    m.sequence = sequence;
    for (std::uint64_t i = 0; i < 6; ++i) m.payload[i] = sequence * 6 + i;
    m.check = expected_check(m);
    return m;
  }
  static std::uint64_t expected_check(const DemoMessage& m) {
    std::uint64_t sum = m.sequence;
    for (const std::uint64_t word : m.payload) sum = sum * 1'000'003 + word;
    return sum;
  }
  bool intact(std::uint64_t expected_sequence) const {
    return sequence == expected_sequence && check == expected_check(*this);
  }
};
static_assert(sizeof(DemoMessage) == 64);

constexpr std::size_t kRingSlots = 4096;

}  // namespace

Result<void> demo_ring(const DemoSettings& settings) {
  const std::uint64_t count = settings.messages;
  demo_heading(
      6, "A lock-free ring between two processes",
      "The producer writes each message into the shared ring and publishes it with one "
      "release store;\n   the consumer acquires it and reads it in place. Baseline: a pipe.");
  auto region = Region::create_shared(SpscRing<DemoMessage>::bytes_for(kRingSlots),
                                      {.name = "zcopy-demo-ring"});
  if (!region) return std::unexpected(region.error());
  auto consumer = SpscRing<DemoMessage>::create_in(region->bytes(), kRingSlots);
  if (!consumer) return std::unexpected(consumer.error());

  const CpuStopwatch ring_clock;
  auto producer = bench::Process::fork([&] {
    auto ring = SpscRing<DemoMessage>::attach(region->bytes());
    if (!ring) return 2;
    for (std::uint64_t next = 0; next < count;) {
      std::span<DemoMessage> slots = ring->reserve(64);
      std::size_t n = 0;
      for (; n < slots.size() && next < count; ++n) slots[n] = DemoMessage::make(next++);
      ring->commit(n);
    }
    return 0;
  });
  if (!producer) return std::unexpected(producer.error());
  std::uint64_t received = 0;
  std::uint64_t damaged = 0;
  while (received < count) {
    std::span<DemoMessage> ready = consumer->readable(64);
    for (const DemoMessage& m : ready) damaged += m.intact(received++) ? 0U : 1U;
    consumer->consume(ready.size());
    if (consumer->consumer_faulted()) return fail(Errc::corrupt, "ring demo", "the ring faulted");
  }
  const double ring_ns = ring_clock.wall_s() * 1e9;
  if (auto done = producer->expect_success("ring producer"); !done)
    return std::unexpected(done.error());

  auto pipe = make_pipe();
  if (!pipe) return std::unexpected(pipe.error());
  const CpuStopwatch pipe_clock;
  auto writer = bench::Process::fork([&] {
    pipe->read_end.reset();
    for (std::uint64_t next = 0; next < count; ++next) {
      const DemoMessage m = DemoMessage::make(next);
      if (::write(pipe->write_end.get(), &m, sizeof m) != sizeof m) return 2;
    }
    return 0;
  });
  if (!writer) return std::unexpected(writer.error());
  pipe->write_end.reset();
  std::uint64_t piped = 0;
  std::uint64_t pipe_damaged = 0;
  DemoMessage m{};
  while (piped < count) {
    // Pipe writes of 64 bytes are atomic (PIPE_BUF), so each read returns whole messages.
    if (::read(pipe->read_end.get(), &m, sizeof m) != sizeof m)
      return fail(Errc::closed, "pipe demo", "short read");
    pipe_damaged += m.intact(piped++) ? 0U : 1U;
  }
  const double pipe_ns = pipe_clock.wall_s() * 1e9;
  if (auto done = writer->expect_success("pipe writer"); !done)
    return std::unexpected(done.error());

  auto rate = [&](double ns) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f M msg/s", static_cast<double>(count) / ns * 1e3);
    return std::string(text);
  };
  Table table({"method", "messages (64 B)", "time", "rate", "damaged", "bytes copied by a CPU"});
  table.add_row({"SpscRing in shared memory", std::to_string(count), format_nanos(ring_ns),
                 rate(ring_ns), std::to_string(damaged), "0 B beyond writing each message once"});
  table.add_row({"pipe (write + read)", std::to_string(count), format_nanos(pipe_ns), rate(pipe_ns),
                 std::to_string(pipe_damaged), format_bytes(2 * count * sizeof(DemoMessage))});
  table.print(stdout);
  std::printf("\n   The ring is %.0fx faster here.\n", pipe_ns / ring_ns);
  if (damaged != 0 || pipe_damaged != 0)
    return fail(Errc::corrupt, "ring demo", "a message arrived damaged");
  return {};
}

}  // namespace zc::demo
