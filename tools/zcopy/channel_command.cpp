// zcopy channel pub|sub NAME: stdin into a named channel, and a channel onto stdout (and
// `zcopy channel bench`, in channel_bench.cpp; `channel export|import`, the bridges to NATS that
// carry a channel beyond this machine, in channel_nats.cpp). The publisher
// reads stdin straight into loaned chunks and subscribers write straight from the shared,
// read-only chunks: the bytes are copied by the kernel at the two ends and never in between.
// The publisher sends what each read brings (a live stream goes out as it is written) and
// services the channel while stdin is quiet, so subscribers may join at any time.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "channel_bench.hpp"
#include "channel_nats.hpp"
#include "command.hpp"
#include "live_input.hpp"
#include "options.hpp"
#include "zcopy/channel/publisher.hpp"
#include "zcopy/channel/subscriber.hpp"
#include "zcopy/core/syscall.hpp"
#include "zcopy/core/units.hpp"

namespace zc::cli {
namespace {

struct ChannelCommandOptions {
  std::string name;
  std::uint64_t chunk_size = 64 * 1024;
  std::size_t chunks = 64;
  std::size_t depth = 32;
  bool drop_oldest = false;
  std::size_t subscribers = 1;
  double wait_s = 30;     // for subscribers (pub) or for the publisher (sub)
  double timeout_s = 30;  // blocking publish / receive
};

Result<void> write_all(std::span<const std::byte> bytes) {
  while (!bytes.empty()) {
    auto n = sys_call({"write", STDOUT_FILENO},
                      [&] { return ::write(STDOUT_FILENO, bytes.data(), bytes.size()); });
    if (!n) return std::unexpected(n.error());
    bytes = bytes.subspan(static_cast<std::size_t>(*n));
  }
  return {};
}

CommandResult run_pub(const ChannelCommandOptions& o) {
  ChannelOptions options;
  options.chunk_size = static_cast<std::size_t>(o.chunk_size);
  options.chunk_count = o.chunks;
  options.queue_depth = o.depth;
  options.backpressure = o.drop_oldest ? Backpressure::drop_oldest : Backpressure::block;
  options.timeout = millis(o.timeout_s);
  auto publisher = Publisher::create(o.name, options);
  if (!publisher) return as_usage(publisher.error());
  if (o.subscribers > 0) {
    if (auto joined = publisher->wait_for_subscribers(o.subscribers, millis(o.wait_s)); !joined) {
      return std::unexpected(joined.error());
    }
  }
  // Never blocked in read() while the input is quiet: a subscriber that joins then is admitted
  // at once, and what each read brings is published as it comes. A chunk is taken only once
  // there is input, so no loan() waits for a free chunk while there is nothing to send.
  LiveInput input(STDIN_FILENO);
  std::uint64_t bytes = 0;
  for (;;) {
    if (auto ready = input.wait(publisher->fd(), [&] { publisher->service(); }); !ready) {
      return std::unexpected(ready.error());
    }
    auto loan = publisher->loan();
    if (!loan) return std::unexpected(loan.error());
    auto n = input.fill(loan->bytes());
    if (!n) return std::unexpected(n.error());
    if (*n == 0) break;
    auto sent = publisher->publish(std::move(*loan), *n);
    if (!sent) return std::unexpected(sent.error());
    bytes += *n;
  }
  publisher->close();
  const PublisherStats stats = publisher->stats();
  std::fprintf(stderr, "zcopy channel pub: %llu bytes in %llu messages, %llu dropped\n",
               static_cast<unsigned long long>(bytes),
               static_cast<unsigned long long>(stats.published),
               static_cast<unsigned long long>(stats.dropped));
  return kExitOk;
}

CommandResult run_sub(const ChannelCommandOptions& o) {
  auto subscriber = Subscriber::connect(o.name, millis(o.wait_s));
  if (!subscriber) return std::unexpected(subscriber.error());
  for (;;) {
    auto sample = subscriber->receive(millis(o.timeout_s));
    if (!sample) {
      const Error& error = sample.error();
      // The end of stream is success; a publisher that died mid-stream is not.
      if (error.code() == Errc::closed && error.detail() == "publisher closed") break;
      return std::unexpected(error);
    }
    if (auto written = write_all(sample->bytes()); !written)
      return std::unexpected(written.error());
  }
  if (subscriber->dropped() > 0) {
    std::fprintf(stderr, "zcopy channel sub: %llu messages were dropped\n",
                 static_cast<unsigned long long>(subscriber->dropped()));
  }
  return kExitOk;
}

void add_common(CLI::App& app, ChannelCommandOptions& o) {
  app.add_option("name", o.name, "Channel name ([A-Za-z0-9._-], up to 80)")
      ->required()
      ->check(accepted_by(valid_channel_name, "1-80 of [A-Za-z0-9._-]"));
}

}  // namespace

CommandRunner add_channel_command(CLI::App& sub) {
  const CLI::Range kSeconds(0.0, 86400.0);
  auto o = std::make_shared<ChannelCommandOptions>();
  sub.require_subcommand(1);
  CLI::App* pub = sub.add_subcommand(
      "pub", "Publish stdin as it arrives, up to a chunk a message; close the channel at EOF");
  add_common(*pub, *o);
  add_size_option(*pub, "--chunk-size", o->chunk_size, "Bytes per chunk (default 64K)");
  pub->add_option("--chunks", o->chunks, "Chunks in the pool (default 64)");
  pub->add_option("--depth", o->depth, "Messages queued per subscriber, a power of two (32)");
  pub->add_flag("--drop-oldest", o->drop_oldest,
                "A slow subscriber loses its oldest unread message instead of blocking us");
  pub->add_option("--subscribers", o->subscribers,
                  "Wait for this many subscribers before reading stdin (default 1)");
  pub->add_option("--wait", o->wait_s, "Seconds to wait for them (default 30)")->check(kSeconds);
  pub->add_option("--timeout", o->timeout_s, "Seconds a blocked publish may wait (default 30)")
      ->check(kSeconds);
  CLI::App* subscribe = sub.add_subcommand("sub", "Write what the channel carries to stdout");
  add_common(*subscribe, *o);
  subscribe->add_option("--wait", o->wait_s, "Seconds to wait for a publisher (default 30)")
      ->check(kSeconds);
  subscribe->add_option("--timeout", o->timeout_s, "Seconds to wait for each message (default 30)")
      ->check(kSeconds);
  auto bench = std::make_shared<ChannelBenchSettings>();
  bench->sizes = {64, 4 * kKiB, 64 * kKiB, kMiB, 16 * kMiB};
  CLI::App* bench_app =
      sub.add_subcommand("bench", "Measure the channel against a Unix socket, a pipe and others");
  bench_app->add_flag("--json", bench->json, "One JSON record per line instead of tables");
  bench_app
      ->add_option_function<std::string>(
          "--sizes",
          [bench](const std::string& text) {
            bench->sizes.clear();
            bench->sizes_given = true;
            std::size_t from = 0;
            while (from <= text.size()) {
              const std::size_t comma = std::min(text.find(',', from), text.size());
              auto size = parse_size(std::string_view(text).substr(from, comma - from));
              if (!size) throw CLI::ValidationError(size.error().message());
              if (*size == 0 || *size > kGiB)
                throw CLI::ValidationError("--sizes: each size must be in [1, 1G]");
              bench->sizes.push_back(*size);
              from = comma + 1;
            }
          },
          "Message sizes, comma-separated (default 64,4K,64K,1M,16M); latency uses those <= 4K")
      ->type_name("LIST");
  bench_app->add_option("--seconds", bench->seconds, "Seconds measured per method and size (1)")
      ->check(CLI::Range(0.01, 3600.0));
  bench_app->add_flag("--nats", bench->nats,
                      "The NATS bridge against plain NATS subscribers, two namespaces joined by "
                      "veth (sizes 4K,64K,1M; 1, 2, 4, 8 subscribers; needs root and nats-server)");
  bench_app->add_flag("--quick", bench->quick, "With --nats: 4K only, 1 and 2 subscribers, 0.3 s");
  ChannelNatsCommands nats = add_channel_nats_commands(sub);
  return [o, pub, bench_app, bench, nats] {
    if (bench_app->parsed()) return run_channel_bench(*bench);
    if (nats.parsed()) return nats.run();
    return pub->parsed() ? run_pub(*o) : run_sub(*o);
  };
}

}  // namespace zc::cli
