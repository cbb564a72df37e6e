// zcopy channel export NAME --nats URLS --subject SUBJECT: a local channel onto NATS.
// zcopy channel import SUBJECT --nats URLS --channel NAME: a NATS subject into a local channel.
// The bridges themselves are bench/nats/channel_bridge_run.hpp's; SIGINT/SIGTERM stop them.
#include "channel_nats.hpp"

#include <memory>
#include <string>

#include "bench/nats/channel_bridge_run.hpp"
#include "options.hpp"
#include "stop_signals.hpp"
#include "zcopy/channel/channel_options.hpp"
#include "zcopy/nats/exporter.hpp"
#include "zcopy/nats/importer.hpp"
#include "zcopy/nats/nats_connection.hpp"

namespace zc::cli {
namespace {

using bench::ChannelBridgeOptions;

void add_connection_options(CLI::App& app, ChannelBridgeOptions& o) {
  app.add_option("--nats", o.urls, "NATS servers, comma-separated (nats://HOST:PORT,...)")
      ->required()
      ->check(accepted_by([](std::string_view text) { return nats::parse_nats_urls(text); },
                          "nats://HOST:PORT[,...]"));
  app.add_option("--user", o.user, "NATS user name");
  app.add_option("--password", o.password, "NATS password (never printed)");
  app.add_option("--token", o.token, "NATS authentication token (never printed)");
  app.add_option("--creds", o.creds, "NATS credentials file (JWT and NKey seed)")
      ->check(CLI::ExistingFile);
  app.add_option("--tls-ca", o.tls_ca, "Require TLS and verify the server with this CA file")
      ->check(CLI::ExistingFile);
  app.add_flag("--json", o.json, "One JSON object per second on stdout instead of stderr lines");
}

}  // namespace

ChannelNatsCommands add_channel_nats_commands(CLI::App& channel) {
  const CLI::Range kSeconds(0.0, 86400.0);
  auto o = std::make_shared<ChannelBridgeOptions>();
  CLI::App* exp =
      channel.add_subcommand("export", "Publish a channel's messages on a NATS subject");
  exp->add_option("name", o->name, "Channel name ([A-Za-z0-9._-], up to 80)")
      ->required()
      ->check(accepted_by(valid_channel_name, "1-80 of [A-Za-z0-9._-]"));
  exp->add_option("--subject", o->subject, "The subject to publish on (no wildcards)")
      ->required()
      ->check(accepted_by(nats::valid_publish_subject, "a subject without wildcards"));
  exp->add_option("--jetstream", o->jetstream,
                  "Publish into this JetStream stream (created for the subject if missing)");
  exp->add_option("--replicas", o->replicas, "Copies of a stream it creates (1)")
      ->check(CLI::Range(1, 5));
  exp->add_option("--wait", o->wait_s, "Seconds to wait for the channel's publisher (30)")
      ->check(kSeconds);
  add_connection_options(*exp, *o);

  CLI::App* imp =
      channel.add_subcommand("import", "Feed a NATS subject (wildcards allowed) into a channel");
  imp->add_option("subject", o->subject, "The subject to subscribe to (* and > allowed)")
      ->required()
      ->check(accepted_by(nats::valid_subscribe_subject, "a NATS subject"));
  imp->add_option("--channel", o->channel, "The local channel to create")
      ->required()
      ->check(accepted_by(valid_channel_name, "1-80 of [A-Za-z0-9._-]"));
  imp->add_option("--on-full", o->on_full,
                  "When local subscribers lag: block (the NATS client queues, then drops as a "
                  "slow consumer) or drop-oldest")
      ->check(CLI::IsMember({"block", "drop-oldest"}));
  imp->add_option("--durable", o->durable,
                  "Read through this durable JetStream consumer; ack once every local subscriber "
                  "released the message");
  imp->add_option(
         "--ack-wait", o->ack_wait_s,
         "With --durable: seconds before the server delivers an unacked message again (30)")
      ->check(CLI::Range(0.1, 86400.0));
  imp->add_flag("--with-sequence", o->with_sequence,
                "With --durable: 8 bytes of stream sequence (little-endian) before each payload, "
                "so subscribers can drop duplicates");
  add_size_option(*imp, "--chunk-size", o->chunk_size,
                  "Bytes per chunk: larger messages are refused (default 1M)");
  imp->add_option("--chunks", o->chunks, "Chunks in the pool (default 64)");
  imp->add_option("--depth", o->depth, "Messages queued per subscriber, a power of two (64)");
  imp->add_option("--subscribers", o->subscribers,
                  "Wait for this many local subscribers before delivering (default 0)");
  imp->add_option("--wait", o->wait_s, "Seconds to wait for them (default 30)")->check(kSeconds);
  imp->add_option("--timeout", o->timeout_s,
                  "Seconds a blocked publish waits before it counts a stall and tries again (1)")
      ->check(CLI::Range(0.001, 86400.0));
  imp->add_option("--messages", o->messages, "Stop after importing this many messages");
  add_connection_options(*imp, *o);
  return {.parsed = [exp, imp] { return exp->parsed() || imp->parsed(); },
          .run = [o, exp]() -> CommandResult {
            catch_stop_signals();
            auto ran = exp->parsed() ? bench::run_channel_export(*o, g_stop)
                                     : bench::run_channel_import(*o, g_stop);
            if (!ran) return std::unexpected(ran.error());
            return kExitOk;
          }};
}

}  // namespace zc::cli
