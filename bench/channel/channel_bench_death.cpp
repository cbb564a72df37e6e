// Death detection: how long after a SIGKILL the other end of a channel knows. A subscriber
// process is killed and the publisher notices (its pidfd or socket, through fd() and service());
// a publisher process is killed and the subscriber's receive() ends with "publisher pid N died".
// Each kill is timed from just before kill(2) to the moment it is noticed; that includes the
// kernel tearing the process down and reaping it, which is what a user waits for too.
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "bench/channel/channel_bench_harness.hpp"
#include "bench/support/process.hpp"
#include "bench/support/stats.hpp"
#include "zcopy/channel/publisher.hpp"
#include "zcopy/channel/subscriber.hpp"

namespace zc::bench {
namespace {

constexpr auto kWait = std::chrono::seconds(10);
// Kills measured at least, however short --seconds is.
constexpr std::size_t kMinKills = 20;

std::string channel_name(const char* what) {
  static int counter = 0;
  return std::string("zcopy-bench-death-") + what + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter++);
}

ChannelOptions small_channel() {
  ChannelOptions options;
  options.chunk_size = 64;
  options.chunk_count = 8;
  return options;
}

// One kill of a subscriber, timed until the publisher has counted it gone.
Result<double> kill_a_subscriber(Publisher& publisher, const std::string& name) {
  auto child = Process::fork([&] {
    auto subscriber = Subscriber::connect(name, kWait);
    if (!subscriber) return 1;
    for (;;) ::pause();
  });
  if (!child) return std::unexpected(child.error());
  if (auto joined = publisher.wait_for_subscribers(1, kWait); !joined) {
    return std::unexpected(joined.error());
  }
  const double killed_at = now_s();
  child->kill();
  const auto give_up = std::chrono::steady_clock::now() + kWait;
  for (;;) {
    publisher.service();
    if (publisher.stats().subscribers == 0) return (now_s() - killed_at) * 1e9;
    if (std::chrono::steady_clock::now() >= give_up) {
      return fail(Errc::timeout, "death detection", "a killed subscriber was not noticed");
    }
    pollfd ready{publisher.fd(), POLLIN, 0};
    (void)::poll(&ready, 1, 10);
  }
}

// One kill of a publisher, timed until the subscriber's receive() reports the death.
Result<double> kill_a_publisher() {
  const std::string name = channel_name("pub");
  auto child = Process::fork([&] {
    auto publisher = Publisher::create(name, small_channel());
    if (!publisher || !publisher->wait_for_subscribers(1, kWait)) return 1;
    for (;;) ::pause();
  });
  if (!child) return std::unexpected(child.error());
  auto subscriber = Subscriber::connect(name, kWait);
  if (!subscriber) return std::unexpected(subscriber.error());
  const double killed_at = now_s();
  child->kill();
  auto end = subscriber->receive(kWait);
  if (end || end.error().code() != Errc::closed) {
    return fail(Errc::system, "death detection", "a killed publisher was not reported as dead");
  }
  return (now_s() - killed_at) * 1e9;
}

}  // namespace

const std::vector<std::string>& death_methods() {
  static const std::vector<std::string> methods{"subscriber-killed", "publisher-killed"};
  return methods;
}

Result<LatencyFigures> measure_death_detection(const std::string& method,
                                               const BenchTiming& timing) {
  std::optional<Publisher> publisher;
  const std::string name = channel_name("sub");
  if (method == "subscriber-killed") {
    auto created = Publisher::create(name, small_channel());
    if (!created) return std::unexpected(created.error());
    publisher.emplace(std::move(*created));
  } else if (method != "publisher-killed") {
    return fail(Errc::invalid_argument, "channel bench", "unknown method " + method);
  }
  auto one_kill = [&]() -> Result<double> {
    return publisher ? kill_a_subscriber(*publisher, name) : kill_a_publisher();
  };
  const double warm_until = now_s() + timing.warmup_s;
  while (now_s() < warm_until) {
    if (auto warm = one_kill(); !warm) return std::unexpected(warm.error());
  }
  std::vector<double> samples;
  const double stop_at = now_s() + timing.measure_s;
  while (samples.size() < kMinKills || now_s() < stop_at) {
    auto latency = one_kill();
    if (!latency) return std::unexpected(latency.error());
    samples.push_back(*latency);
  }
  const Percentiles p = percentiles(samples);
  return LatencyFigures{
      .round_trips = p.count, .p50_ns = p.p50, .p99_ns = p.p99, .p999_ns = p.p999, .max_ns = p.max};
}

}  // namespace zc::bench
