// zcopy-iceoryx-peer: Eclipse iceoryx measured under the rules of `zcopy channel bench`, which
// starts RouDi, runs this program and reads the one line it prints. A program of its own so that
// zcopy itself never links iceoryx.
//
//   zcopy-iceoryx-peer throughput SIZE WARMUP_S MEASURE_S QUEUE
//     prints "messages seconds cpu_seconds"
//   zcopy-iceoryx-peer latency SIZE WARMUP_S MEASURE_S busy|wake
//     prints "round_trips p50_ns p99_ns p999_ns max_ns"
//
// The rules are the other methods': the publisher loans a chunk and writes every byte in place,
// the subscriber reads every byte, the same warm-up and measured time, nothing lost. Back-pressure
// blocks: the publisher waits for the consumer (ConsumerTooSlowPolicy::WAIT_FOR_CONSUMER), the
// subscriber's queue asks it to (QueueFullPolicy::BLOCK_PRODUCER); history 0 on both sides. A
// message of another size than SIZE ends the stream.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include "bench/channel/channel_bench_harness.hpp"
#include "bench/support/process.hpp"
#include "iceoryx_hoofs/log/logmanager.hpp"
#include "iceoryx_posh/mepoo/chunk_header.hpp"
#include "iceoryx_posh/popo/untyped_publisher.hpp"
#include "iceoryx_posh/popo/untyped_subscriber.hpp"
#include "iceoryx_posh/popo/wait_set.hpp"
#include "iceoryx_posh/runtime/posh_runtime.hpp"

namespace {

using namespace zc::bench;

volatile std::uint64_t g_sink = 0;  // keeps the reads of payloads alive

// Polls of an empty queue before a wait on the WaitSet, as the zcopy subscriber's default.
constexpr std::uint32_t kSpinCount = 2000;
constexpr double kConnectTimeout_s = 10;

void init_runtime(const char* role) {
  // Warnings and errors only: the bench reads our stdout, and a log line per process is noise.
  iox::log::LogManager::GetLogManager().SetDefaultLogLevel(iox::log::LogLevel::kWarn);
  const std::string name = std::string("zcopy-") + role + "-" + std::to_string(::getpid());
  iox::runtime::PoshRuntime::initRuntime(
      iox::RuntimeName_t(iox::cxx::TruncateToCapacity, name.c_str()));
}

iox::capro::ServiceDescription service(const char* event, std::uint64_t size) {
  return {"zcopy-bench", iox::capro::IdString_t(iox::cxx::TruncateToCapacity, event),
          iox::capro::IdString_t(iox::cxx::TruncateToCapacity, std::to_string(size).c_str())};
}

iox::popo::PublisherOptions publisher_options() {
  iox::popo::PublisherOptions options;
  options.historyCapacity = 0;
  options.subscriberTooSlowPolicy = iox::popo::ConsumerTooSlowPolicy::WAIT_FOR_CONSUMER;
  return options;
}

iox::popo::SubscriberOptions subscriber_options(std::uint64_t queue) {
  iox::popo::SubscriberOptions options;
  options.queueCapacity = queue;
  options.historyRequest = 0;
  options.queueFullPolicy = iox::popo::QueueFullPolicy::BLOCK_PRODUCER;
  return options;
}

// A chunk of `size` bytes; waits while the pool has none free (the subscriber still holds them).
void* loan(iox::popo::UntypedPublisher& publisher, std::uint64_t size) {
  for (;;) {
    auto chunk = publisher.loan(static_cast<std::uint32_t>(size));
    if (!chunk.has_error()) return chunk.value();
    if (chunk.get_error() != iox::popo::AllocationError::RUNNING_OUT_OF_CHUNKS) return nullptr;
    spin_pause();
  }
}

// The next message: polls, then (after `spins` empty polls) sleeps on the WaitSet.
const void* take(iox::popo::UntypedSubscriber& subscriber, iox::popo::WaitSet<>& waits,
                 std::uint32_t spins) {
  for (std::uint32_t polls = 0;; ++polls) {
    auto taken = subscriber.take();
    if (!taken.has_error()) return taken.value();
    if (polls < spins) {
      spin_pause();
      continue;
    }
    (void)waits.wait();
    polls = 0;
  }
}

std::uint32_t payload_size(const void* payload) {
  return iox::mepoo::ChunkHeader::fromUserPayload(payload)->userPayloadSize();
}

std::span<const std::byte> bytes_of(const void* payload, std::uint64_t size) {
  return {static_cast<const std::byte*>(payload), static_cast<std::size_t>(size)};
}

bool wait_until(const auto& ready) {
  const double give_up = now_s() + kConnectTimeout_s;
  while (!ready()) {
    if (now_s() > give_up) return false;
    ::usleep(1000);
  }
  return true;
}

// Runs `body` in a child process that leaves through exit(), not _exit(): the runtime's
// destructor then unregisters it from RouDi, which otherwise tries to kill it at shutdown.
zc::Result<Process> fork_peer(const std::function<int()>& body) {
  return Process::fork([&]() -> int { std::exit(body()); });
}

// Sends the end of the stream: a message of another size.
void end_stream(iox::popo::UntypedPublisher& publisher, std::uint64_t size) {
  if (void* end = loan(publisher, size == 1 ? 2 : 1)) publisher.publish(end);
}

int throughput(std::uint64_t size, const BenchTiming& timing, std::uint64_t queue) {
  auto tally = SharedTally::create();
  if (!tally) return 1;
  Tally& t = **tally;
  auto child = fork_peer([&] {
    init_runtime("sub");
    iox::popo::UntypedSubscriber subscriber(service("throughput", size), subscriber_options(queue));
    iox::popo::WaitSet<> waits;
    if (waits.attachState(subscriber, iox::popo::SubscriberState::HAS_DATA).has_error()) return 1;
    ReceiverTally receiver(t, true);
    for (;;) {
      const void* payload = take(subscriber, waits, kSpinCount);
      if (payload_size(payload) != size) {
        subscriber.release(payload);
        break;
      }
      receiver.received(bytes_of(payload, size));
      subscriber.release(payload);
    }
    receiver.finish();
    return 0;
  });
  if (!child) return 1;
  init_runtime("pub");
  iox::popo::UntypedPublisher publisher(service("throughput", size), publisher_options());
  if (!wait_until([&] { return publisher.hasSubscribers(); })) return 1;
  SenderClock clock(t, timing);
  while (clock.next()) {
    void* payload = loan(publisher, size);
    if (payload == nullptr) return 1;
    fill(std::span(static_cast<std::byte*>(payload), static_cast<std::size_t>(size)), clock.sent());
    publisher.publish(payload);
  }
  clock.finish();
  end_stream(publisher, size);
  // The publisher stays until the subscriber has drained its queue and left.
  if (!child->expect_success("iceoryx subscriber")) return 1;
  const ThroughputFigures f = figures_of(t, size);
  std::printf("%llu %.9f %.9f\n", static_cast<unsigned long long>(f.messages), f.seconds,
              f.cpu_seconds);
  return 0;
}

int latency(std::uint64_t size, const BenchTiming& timing, bool busy) {
  constexpr std::uint64_t kQueue = 4;  // as the zcopy ping-pong channels
  const std::uint32_t spins = busy ? UINT32_MAX : 0;
  auto child = fork_peer([&] {
    init_runtime("pong");
    iox::popo::UntypedSubscriber pings(service("ping", size), subscriber_options(kQueue));
    iox::popo::UntypedPublisher pongs(service("pong", size), publisher_options());
    iox::popo::WaitSet<> waits;
    if (waits.attachState(pings, iox::popo::SubscriberState::HAS_DATA).has_error()) return 1;
    for (std::uint64_t message = 0;; ++message) {
      const void* ping = take(pings, waits, spins);
      if (payload_size(ping) != size) {
        pings.release(ping);
        return 0;
      }
      g_sink = g_sink + sum(bytes_of(ping, size));
      pings.release(ping);
      void* pong = loan(pongs, size);
      if (pong == nullptr) return 1;
      fill(std::span(static_cast<std::byte*>(pong), static_cast<std::size_t>(size)), message);
      pongs.publish(pong);
    }
  });
  if (!child) return 1;
  init_runtime("ping");
  iox::popo::UntypedPublisher pings(service("ping", size), publisher_options());
  iox::popo::UntypedSubscriber pongs(service("pong", size), subscriber_options(kQueue));
  iox::popo::WaitSet<> waits;
  if (waits.attachState(pongs, iox::popo::SubscriberState::HAS_DATA).has_error()) return 1;
  if (!wait_until([&] {
        return pings.hasSubscribers() &&
               pongs.getSubscriptionState() == iox::SubscribeState::SUBSCRIBED;
      })) {
    return 1;
  }
  auto figures = time_round_trips(timing, [&](std::uint64_t message) {
    void* ping = loan(pings, size);
    if (ping == nullptr) return false;
    fill(std::span(static_cast<std::byte*>(ping), static_cast<std::size_t>(size)), message);
    pings.publish(ping);
    const void* pong = take(pongs, waits, spins);
    g_sink = g_sink + sum(bytes_of(pong, size));
    pongs.release(pong);
    return true;
  });
  end_stream(pings, size);
  if (!child->expect_success("iceoryx pong") || !figures) return 1;
  std::printf("%llu %.1f %.1f %.1f %.1f\n", static_cast<unsigned long long>(figures->round_trips),
              figures->p50_ns, figures->p99_ns, figures->p999_ns, figures->max_ns);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (argc != 6 || (mode != "throughput" && mode != "latency")) {
    std::fprintf(stderr,
                 "usage: zcopy-iceoryx-peer throughput SIZE WARMUP_S MEASURE_S QUEUE\n"
                 "       zcopy-iceoryx-peer latency SIZE WARMUP_S MEASURE_S busy|wake\n");
    return 2;
  }
  const std::uint64_t size = std::strtoull(argv[2], nullptr, 10);
  const BenchTiming timing{.warmup_s = std::strtod(argv[3], nullptr),
                           .measure_s = std::strtod(argv[4], nullptr)};
  if (size == 0) return 2;
  if (mode == "throughput") return throughput(size, timing, std::strtoull(argv[5], nullptr, 10));
  return latency(size, timing, std::string(argv[5]) == "busy");
}
