// Throughput of one method at one message size: a sender that writes every payload and a
// receiver that reads all of it, in two processes (the ceiling: two threads, no channel at all).
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/interprocess/ipc/message_queue.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/channel/channel_bench_harness.hpp"
#include "bench/support/process.hpp"
#include "bench/support/write_all.hpp"
#include "zcopy/channel/publisher.hpp"
#include "zcopy/channel/subscriber.hpp"
#include "zcopy/core/fd.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc::bench {
namespace {

constexpr std::uint64_t kBoostChunk = 64 * 1024;  // a queue message is a bounded copy buffer
constexpr std::size_t kBoostDepth = 64;

// A subscriber queue's depth for zcopy and iceoryx: a few MiB in all, at least 4 and at most 64.
// A power of two. zcopy, iceoryx and the ceiling all cycle through kChunksBeyondQueue chunks
// more, so that none measures a cache (or a run-ahead) the others do not get.
std::size_t ring_chunks(std::uint64_t size) {
  std::size_t chunks = 4;
  while (chunks < 64 && (chunks * 2) * size <= 4 * 1024 * 1024) chunks *= 2;
  return chunks;
}

std::string unique_name(const char* what) {
  static int counter = 0;
  return std::string("zcopy-bench-") + what + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter++);
}

// Reads exactly `bytes.size()` bytes; false at end of stream before the first byte.
Result<bool> read_all(int fd, std::span<std::byte> bytes) {
  std::size_t filled = 0;
  while (filled < bytes.size()) {
    auto n = sys_call({"read", fd},
                      [&] { return ::read(fd, bytes.data() + filled, bytes.size() - filled); });
    if (!n) return std::unexpected(n.error());
    if (*n == 0) {
      if (filled == 0) return false;
      return fail(Errc::system, "read", "stream ended inside a message");
    }
    filled += static_cast<std::size_t>(*n);
  }
  return true;
}

// Runs `receiver` in a child process while the caller sends; reaps it.
template <class Send>
Result<ThroughputFigures> two_processes(std::uint64_t size,
                                        const std::function<int(Tally&)>& receiver, Send send) {
  auto tally = SharedTally::create();
  if (!tally) return std::unexpected(tally.error());
  Tally& t = **tally;
  auto child = Process::fork([&] { return receiver(t); });
  if (!child) return std::unexpected(child.error());
  auto sent = send(t);
  if (!sent) return std::unexpected(sent.error());
  if (auto waited = child->expect_success("bench receiver"); !waited)
    return std::unexpected(waited.error());
  return figures_of(t, size);
}

// A socket pair or a pipe: the bytes are copied into the kernel and out again.
Result<ThroughputFigures> over_stream(std::uint64_t size, const BenchTiming& timing,
                                      const int (&fds)[2]) {
  Fd reader = Fd::adopt(fds[0]);
  Fd writer = Fd::adopt(fds[1]);
  auto receive = [&](Tally& t) -> int {
    writer.reset();
    std::vector<std::byte> buffer(size);
    ReceiverTally tally(t, true);
    for (;;) {
      auto got = read_all(reader.get(), buffer);
      if (!got) return 1;
      if (!*got) break;
      tally.received(buffer);
    }
    tally.finish();
    return 0;
  };
  return two_processes(size, receive, [&](Tally& t) -> Result<void> {
    reader.reset();
    std::vector<std::byte> buffer(size);
    SenderClock clock(t, timing);
    while (clock.next()) {
      fill(buffer, clock.sent());
      if (auto written = write_all(writer.get(), buffer); !written) return written;
    }
    clock.finish();
    writer.reset();  // end of stream
    return {};
  });
}

Result<ThroughputFigures> unix_socket(std::uint64_t size, const BenchTiming& timing) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    return fail_errno(errno, "socketpair");
  return over_stream(size, timing, fds);
}

Result<ThroughputFigures> pipe_pair(std::uint64_t size, const BenchTiming& timing) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return fail_errno(errno, "pipe2");
  return over_stream(size, timing, fds);
}

Result<ThroughputFigures> boost_queue(std::uint64_t size, const BenchTiming& timing) {
  namespace bip = boost::interprocess;
  const std::string name = unique_name("mq");
  const std::uint64_t chunk = std::min(size, kBoostChunk);
  std::unique_ptr<bip::message_queue> queue;
  try {
    queue = std::make_unique<bip::message_queue>(bip::create_only, name.c_str(), kBoostDepth,
                                                 static_cast<std::size_t>(chunk));
  } catch (const bip::interprocess_exception& e) {
    return fail(Errc::system, "boost message_queue(" + name + ")", e.what());
  }
  struct Remove {
    std::string name;
    ~Remove() { bip::message_queue::remove(name.c_str()); }
  } remove{name};
  auto receive = [&](Tally& t) -> int {
    try {
      std::vector<std::byte> buffer(size);
      ReceiverTally tally(t, true);
      for (;;) {
        std::size_t filled = 0;
        bool end = false;
        while (filled < size) {
          std::size_t got = 0;
          unsigned priority = 0;
          queue->receive(buffer.data() + filled, static_cast<std::size_t>(chunk), got, priority);
          if (got == 0) {
            end = true;
            break;
          }
          filled += got;
        }
        if (end) break;
        tally.received(buffer);
      }
      tally.finish();
      return 0;
    } catch (...) {
      return 1;
    }
  };
  auto figures = two_processes(size, receive, [&](Tally& t) -> Result<void> {
    try {
      std::vector<std::byte> buffer(size);
      SenderClock clock(t, timing);
      while (clock.next()) {
        fill(buffer, clock.sent());
        for (std::uint64_t at = 0; at < size; at += chunk) {
          queue->send(buffer.data() + at, static_cast<std::size_t>(std::min(chunk, size - at)), 0);
        }
      }
      clock.finish();
      queue->send(buffer.data(), 0, 0);  // end of stream
    } catch (const bip::interprocess_exception& e) {
      return fail(Errc::system, "boost message_queue::send", e.what());
    }
    return {};
  });
  if (figures) figures->chunk_bytes = chunk;
  return figures;
}

// Messages per batch for zcopy-batch: enough to spread the per-batch costs thin, and at most a
// quarter of the chunks, so that the publisher can fill the next batch while the subscriber reads.
constexpr std::size_t kMaxBatch = 16;
std::size_t batch_of(std::size_t chunks) {
  return std::max<std::size_t>(1, std::min(kMaxBatch, chunks / 4));
}

// The publisher's side until the clock says stop: every payload written in full and published,
// one at a time (`batch` 0) or `batch` at a time with loan_n/publish_n. `each_round` runs before
// every loan.
template <class EachRound>
Result<void> publish_until_done(Publisher& publisher, SenderClock& clock, std::uint64_t size,
                                std::size_t batch, EachRound each_round) {
  std::vector<ChunkLoan> loans(std::max<std::size_t>(batch, 1));
  const std::vector<std::size_t> lengths(loans.size(), static_cast<std::size_t>(size));
  while (clock.next()) {
    each_round();
    if (batch == 0) {
      auto loan = publisher.loan();
      if (!loan) return std::unexpected(loan.error());
      fill(loan->bytes().first(static_cast<std::size_t>(size)), clock.sent());
      if (auto sent = publisher.publish(std::move(*loan), static_cast<std::size_t>(size)); !sent)
        return std::unexpected(sent.error());
      continue;
    }
    // Every message of the batch counts once on the clock, and the batch ends early when the
    // measured time does.
    auto loaned = publisher.loan_n(loans);
    if (!loaned) return std::unexpected(loaned.error());
    std::size_t n = 0;
    do {
      fill(loans[n].bytes().first(static_cast<std::size_t>(size)), clock.sent());
      ++n;
    } while (n < *loaned && clock.next());
    for (std::size_t i = n; i < *loaned; ++i) loans[i] = ChunkLoan();
    if (auto sent = publisher.publish_n(std::span(loans).first(n), std::span(lengths).first(n));
        !sent)
      return std::unexpected(sent.error());
    if (n < *loaned) break;
  }
  return {};
}

// `batch` 0: one message per loan/publish/receive; otherwise loan_n/publish_n/receive_n.
Result<ThroughputFigures> channel(std::uint64_t size, const BenchTiming& timing,
                                  std::size_t batch) {
  if (size > (std::uint64_t{1} << 30)) return fail(Errc::invalid_argument, "zcopy", "size > 1 GiB");
  const std::string name = unique_name("tp");
  const std::size_t chunks = ring_chunks(size);
  std::string fences;
  auto receive = [&](Tally& t) -> int {
    auto subscriber = Subscriber::connect(name, std::chrono::seconds(10));
    if (!subscriber) return 1;
    ReceiverTally tally(t, true);
    SampleBatch samples;
    for (;;) {
      if (batch == 0) {
        auto sample = subscriber->receive(std::chrono::seconds(10));
        if (!sample) {
          if (sample.error().code() == Errc::closed) break;
          return 1;
        }
        tally.received(sample->bytes());
        continue;
      }
      auto got = subscriber->receive_n(samples, batch, std::chrono::seconds(10));
      if (!got) {
        if (got.error().code() == Errc::closed) break;
        return 1;
      }
      for (std::size_t i = 0; i < samples.size(); ++i) tally.received(samples.bytes(i));
    }
    tally.finish();
    return 0;
  };
  auto figures = two_processes(size, receive, [&](Tally& t) -> Result<void> {
    ChannelOptions options;
    options.chunk_size = static_cast<std::size_t>(size);
    options.chunk_count = chunks + kChunksBeyondQueue;
    options.queue_depth = chunks;
    options.timeout = std::chrono::seconds(10);
    auto publisher = Publisher::create(name, options);
    if (!publisher) return std::unexpected(publisher.error());
    fences = publisher->fences();
    if (auto joined = publisher->wait_for_subscribers(1, std::chrono::seconds(10)); !joined)
      return joined;
    SenderClock clock(t, timing);
    if (auto sent = publish_until_done(*publisher, clock, size, batch, [] {}); !sent) return sent;
    clock.finish();
    publisher->close();
    // Stay until the subscriber leaves, so it drains the queue rather than seeing us die.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (publisher->stats().subscribers > 0 && std::chrono::steady_clock::now() < give_up) {
      publisher->service();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return {};
  });
  if (figures) figures->fences = fences;
  return figures;
}

// One publisher, `subscribers` processes each reading every byte of every message (block mode:
// the publisher goes at the pace of the slowest). `batch` 0: loan/publish/receive one message at
// a time; otherwise loan_n/publish_n/receive_n.
Result<FanOutFigures> fan_out(std::size_t subscribers, std::uint64_t size,
                              const BenchTiming& timing, std::size_t batch) {
  const std::string name = unique_name("fan");
  const std::size_t chunks = ring_chunks(size);
  std::vector<SharedTally> tallies;
  for (std::size_t i = 0; i < subscribers; ++i) {
    auto tally = SharedTally::create();
    if (!tally) return std::unexpected(tally.error());
    tallies.push_back(std::move(*tally));
  }
  ChannelOptions options;
  options.chunk_size = static_cast<std::size_t>(size);
  options.chunk_count = chunks;
  options.queue_depth = chunks;
  options.max_subscribers = subscribers;
  options.timeout = std::chrono::seconds(10);
  auto publisher = Publisher::create(name, options);
  if (!publisher) return std::unexpected(publisher.error());
  std::vector<Process> children;
  for (std::size_t i = 0; i < subscribers; ++i) {
    Tally& t = *tallies[i];
    auto child = Process::fork([&name, &t, batch] {
      auto subscriber = Subscriber::connect(name, std::chrono::seconds(10));
      if (!subscriber) return 1;
      ReceiverTally tally(t, true);
      SampleBatch samples;
      for (;;) {
        if (batch != 0) {
          auto got = subscriber->receive_n(samples, batch, std::chrono::seconds(10));
          if (got) {
            for (std::size_t k = 0; k < samples.size(); ++k) tally.received(samples.bytes(k));
            continue;
          }
          if (got.error().code() != Errc::closed) return 1;
          break;
        }
        auto sample = subscriber->receive(std::chrono::seconds(10));
        if (!sample) {
          if (sample.error().code() != Errc::closed) return 1;
          break;
        }
        tally.received(sample->bytes());
      }
      tally.finish();
      return 0;
    });
    if (!child) return std::unexpected(child.error());
    children.push_back(std::move(*child));
  }
  if (auto joined = publisher->wait_for_subscribers(subscribers, std::chrono::seconds(10));
      !joined) {
    return std::unexpected(joined.error());
  }
  SenderClock clock(*tallies[0], timing);
  bool told = false;
  // The first subscriber's tally gets the start from the clock; the others from here.
  auto tell_the_others = [&] {
    if (told || tallies[0]->measure_from.load(std::memory_order_relaxed) == UINT64_MAX) return;
    const std::uint64_t from = tallies[0]->measure_from.load(std::memory_order_relaxed);
    for (auto& tally : tallies) tally->measure_from.store(from, std::memory_order_release);
    told = true;
  };
  if (auto sent = publish_until_done(*publisher, clock, size, batch, tell_the_others); !sent) {
    return std::unexpected(sent.error());
  }
  clock.finish();
  if (!told) {
    for (auto& tally : tallies) tally->measure_from.store(clock.sent(), std::memory_order_release);
  }
  publisher->close();
  for (auto& child : children) {
    if (auto done = child.expect_success("fan-out subscriber"); !done) {
      return std::unexpected(done.error());
    }
  }
  FanOutFigures f;
  f.subscribers = subscribers;
  f.batch = batch;
  f.rate = 0;
  for (const auto& tally : tallies) {
    const ThroughputFigures one = figures_of(*tally, size);
    const double rate = one.seconds > 0 ? static_cast<double>(one.messages) / one.seconds : 0;
    // Every subscriber receives every message: the rate all of them sustained is the slowest's.
    f.rate = f.rate == 0 ? rate : std::min(f.rate, rate);
    f.subscriber_cpu += one.seconds > 0 ? tally->receiver_cpu_s / one.seconds : 0;
  }
  f.subscriber_cpu /= static_cast<double>(subscribers);
  f.publisher_cpu = timing.measure_s > 0 ? tallies[0]->sender_cpu_s / timing.measure_s : 0;
  return f;
}

// Two threads hand chunks over through two counters: the cost of writing and reading the bytes
// with nothing in between, the bound any channel is measured against.
Result<ThroughputFigures> ceiling(std::uint64_t size, const BenchTiming& timing) {
  const std::size_t chunks = ring_chunks(size) + kChunksBeyondQueue;
  std::vector<std::byte> memory(chunks * size);
  auto chunk = [&](std::uint64_t i) {
    return std::span<std::byte>(memory).subspan((i % chunks) * size, size);
  };
  struct alignas(64) Counter {
    std::atomic<std::uint64_t> value{0};
  };
  Counter head, tail;  // each on its own cache line
  auto tally = SharedTally::create();
  if (!tally) return std::unexpected(tally.error());
  Tally& t = **tally;
  std::thread reader([&] {
    ReceiverTally receiver(t, false);
    std::uint64_t next = 0;
    for (;;) {
      // Acquire: pairs with the writer's release of head; the chunk's bytes are visible.
      std::uint64_t available = head.value.load(std::memory_order_acquire);
      if (available == next) {
        spin_pause();
        continue;
      }
      if (available == UINT64_MAX) break;
      receiver.received(chunk(next));
      ++next;
      // Release: our reads of the chunk are done before the writer may refill it.
      tail.value.store(next, std::memory_order_release);
    }
    receiver.finish();
  });
  SenderClock clock(t, timing);
  std::uint64_t produced = 0;
  while (clock.next()) {
    while (produced - tail.value.load(std::memory_order_acquire) >= chunks) spin_pause();
    fill(chunk(produced), produced);
    head.value.store(++produced, std::memory_order_release);
  }
  clock.finish();
  while (tail.value.load(std::memory_order_acquire) != produced) spin_pause();
  head.value.store(UINT64_MAX, std::memory_order_release);
  reader.join();
  return figures_of(t, size);
}

}  // namespace

const std::vector<std::string>& throughput_methods() {
  static const std::vector<std::string> methods{"ceiling", "zcopy", "zcopy-batch", "iceoryx",
                                                "unix",    "pipe",  "boost-mq"};
  return methods;
}

Result<ThroughputFigures> measure_throughput(const std::string& method, std::uint64_t size,
                                             const BenchTiming& timing) {
  if (method == "zcopy") {
    auto figures = channel(size, timing, 0);
    if (figures) figures->queue = ring_chunks(size);
    return figures;
  }
  if (method == "iceoryx") return iceoryx_throughput(size, timing, ring_chunks(size));
  if (method == "zcopy-batch") {
    const std::size_t batch = batch_of(ring_chunks(size));
    auto figures = channel(size, timing, batch);
    if (figures) {
      figures->batch = batch;
      figures->queue = ring_chunks(size);
    }
    return figures;
  }
  if (method == "ceiling") return ceiling(size, timing);
  if (method == "unix") return unix_socket(size, timing);
  if (method == "pipe") return pipe_pair(size, timing);
  if (method == "boost-mq") return boost_queue(size, timing);
  return fail(Errc::invalid_argument, "channel bench", "unknown method " + method);
}

Result<FanOutFigures> measure_fan_out(std::size_t subscribers, std::uint64_t size,
                                      const BenchTiming& timing, bool batches) {
  return fan_out(subscribers, size, timing, batches ? batch_of(ring_chunks(size)) : 0);
}

}  // namespace zc::bench
