// zcopy channel pub|sub NAME: stdin into a named channel, and a channel onto stdout, copied only by
// the kernel at the two ends (bench/channel/channel_stream_run.hpp); `zcopy channel bench`, in
// channel_bench.cpp; `channel export|import`, the bridges to NATS that carry a channel beyond
// this machine, in channel_nats.cpp.
#include <unistd.h>

#include <memory>
#include <string>

#include "bench/channel/channel_stream_run.hpp"
#include "channel_bench.hpp"
#include "channel_nats.hpp"
#include "command.hpp"
#include "options.hpp"
#include "zcopy/channel/channel_options.hpp"
#include "zcopy/core/units.hpp"

namespace zc::cli {
namespace {

struct ChannelCommandOptions {
  bench::ChannelStreamOptions stream;
  double wait_s = 30;     // for subscribers (pub) or for the publisher (sub)
  double timeout_s = 30;  // blocking publish / receive
};

CommandResult run_stream(ChannelCommandOptions o, bool publish) {
  o.stream.wait = millis(o.wait_s);
  o.stream.timeout = millis(o.timeout_s);
  auto ran = publish ? bench::run_channel_pub(o.stream, STDIN_FILENO)
                     : bench::run_channel_sub(o.stream, STDOUT_FILENO);
  if (!ran) return std::unexpected(ran.error());
  return kExitOk;
}

void add_common(CLI::App& app, ChannelCommandOptions& o) {
  app.add_option("name", o.stream.name, "Channel name ([A-Za-z0-9._-], up to 80)")
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
  add_size_option(*pub, "--chunk-size", o->stream.chunk_size, "Bytes per chunk (default 64K)");
  pub->add_option("--chunks", o->stream.chunks, "Chunks in the pool (default 64)");
  pub->add_option("--depth", o->stream.depth,
                  "Messages queued per subscriber, a power of two (32)");
  pub->add_flag("--drop-oldest", o->stream.drop_oldest,
                "A slow subscriber loses its oldest unread message instead of blocking us");
  pub->add_option("--subscribers", o->stream.subscribers,
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
  bench_app->footer(
      "Round trips: floor ping-pongs a sequence with the payload beside it (one line and 8 bytes "
      "of the next per hop at 64 B); floor-2line ping-pongs a line that names a payload a page "
      "away, read after it (two dependent lines per hop, as a descriptor naming its chunk); "
      "zcopy-busy polls two channels, one each way; -wake sleeps on the eventfd every message.");
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
    return run_stream(*o, pub->parsed());
  };
}

}  // namespace zc::cli
