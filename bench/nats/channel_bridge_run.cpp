#include "bench/nats/channel_bridge_run.hpp"

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>

#include "zcopy/channel/publisher.hpp"
#include "zcopy/channel/subscriber.hpp"
#include "zcopy/core/json_record.hpp"
#include "zcopy/nats/exporter.hpp"
#include "zcopy/nats/importer.hpp"
#include "zcopy/nats/nats_connection.hpp"

namespace zc::bench {
namespace {

using namespace std::chrono_literals;

std::chrono::milliseconds millis(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

Result<nats::NatsConnection> connect(const ChannelBridgeOptions& o, const char* role) {
  auto urls = nats::parse_nats_urls(o.urls);
  if (!urls) return std::unexpected(urls.error());
  nats::NatsOptions options{.urls = std::move(*urls),
                            .user = o.user,
                            .password = o.password,
                            .token = o.token,
                            .credentials_file = o.creds,
                            .tls_ca = o.tls_ca,
                            .name = std::string("zcopy channel ") + role};
  return nats::NatsConnection::connect(options);
}

// Per-interval and running totals, printed as one line or one JSON object.
class Progress {
 public:
  Progress(const char* command, bool json) : command_(command), json_(json) {}

  template <class Stats>
  void report(const Stats& stats, const std::string& server,
              const std::function<void(JsonRecord&)>& add_extra, const std::string& extra_text,
              bool final) {
    const auto now = std::chrono::steady_clock::now();
    const double dt = std::chrono::duration<double>(now - last_).count();
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double rate = dt > 0 ? static_cast<double>(stats.messages - last_messages_) / dt : 0;
    const double bytes_rate = dt > 0 ? static_cast<double>(stats.bytes - last_bytes_) / dt : 0;
    last_ = now;
    last_messages_ = stats.messages;
    last_bytes_ = stats.bytes;
    if (json_) {
      JsonRecord record;
      record.add("command", command_)
          .add("final", final)
          .add("elapsed_s", elapsed)
          .add("server", server)
          .add("messages", stats.messages)
          .add("bytes", stats.bytes)
          .add("messages_per_s", final ? static_cast<double>(stats.messages) / elapsed : rate)
          .add("bytes_per_s", final ? static_cast<double>(stats.bytes) / elapsed : bytes_rate)
          .add("reconnects", stats.connection.reconnects);
      add_extra(record);
      std::puts(record.str().c_str());
      std::fflush(stdout);
      return;
    }
    std::fprintf(stderr,
                 "zcopy %s: %s%.0f msg/s, %s/s, %llu messages (%s), %s, reconnects %llu, %s\n",
                 command_, final ? "done: " : "",
                 final ? static_cast<double>(stats.messages) / elapsed : rate,
                 format_bytes(static_cast<std::uint64_t>(bytes_rate)).c_str(),
                 static_cast<unsigned long long>(stats.messages), format_bytes(stats.bytes).c_str(),
                 extra_text.c_str(), static_cast<unsigned long long>(stats.connection.reconnects),
                 server.empty() ? "no server (reconnecting)" : server.c_str());
  }

 private:
  const char* command_;
  bool json_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_ = start_;
  std::uint64_t last_messages_ = 0;
  std::uint64_t last_bytes_ = 0;
};

std::string count(const char* what, std::uint64_t n) {
  return std::string(what) + " " + std::to_string(n);
}

}  // namespace

Result<void> run_channel_export(const ChannelBridgeOptions& o, const std::atomic<bool>& stop) {
  auto subscriber = Subscriber::connect(o.name, millis(o.wait_s));
  if (!subscriber) return std::unexpected(subscriber.error());
  auto connection = connect(o, "export");
  if (!connection) return std::unexpected(connection.error());
  auto exporter = nats::Exporter::create(
      std::move(*connection), std::move(*subscriber),
      {.subject = o.subject, .jetstream_stream = o.jetstream, .replicas = o.replicas});
  if (!exporter) return as_usage(exporter.error());
  std::fprintf(stderr, "zcopy channel export: channel %s -> %s on %s\n", o.name.c_str(),
               o.subject.c_str(), exporter->connection().connected_url().c_str());
  Progress progress("channel export", o.json);
  auto report = [&](bool final) {
    const nats::ExportStats s = exporter->stats();
    auto extra = [&](JsonRecord& r) {
      r.add("refused", s.refused)
          .add("unsent", s.unsent)
          .add("channel_lost", s.channel_lost)
          .add("not_stored", s.not_stored);
    };
    progress.report(s, exporter->connection().connected_url(), extra,
                    count("refused", s.refused) + ", " + count("unsent", s.unsent) + ", " +
                        count("channel lost", s.channel_lost),
                    final);
  };
  while (!stop.load(std::memory_order_relaxed)) {
    auto more = exporter->run_for(1s);
    if (!more) {
      report(true);
      return std::unexpected(more.error());
    }
    if (!*more) break;
    report(false);
  }
  report(true);
  if (!o.json)
    std::fprintf(stderr, "zcopy channel export: %s\n", exporter->ledger().summary().c_str());
  return {};
}

Result<void> run_channel_import(const ChannelBridgeOptions& o, const std::atomic<bool>& stop) {
  ChannelOptions channel;
  channel.chunk_size = static_cast<std::size_t>(o.chunk_size);
  channel.chunk_count = o.chunks;
  channel.queue_depth = o.depth;
  channel.backpressure =
      o.on_full == "drop-oldest" ? Backpressure::drop_oldest : Backpressure::block;
  channel.timeout = millis(o.timeout_s);
  auto publisher = Publisher::create(o.channel, channel);
  if (!publisher) return as_usage(publisher.error());
  auto connection = connect(o, "import");
  if (!connection) return std::unexpected(connection.error());
  auto importer = nats::Importer::create(std::move(*connection), std::move(*publisher),
                                         {.subject = o.subject,
                                          .durable = o.durable,
                                          .ack_wait = millis(o.ack_wait_s),
                                          .sequence_prefix = o.with_sequence});
  if (!importer) return as_usage(importer.error());
  std::fprintf(stderr, "zcopy channel import: %s on %s -> channel %s (on full: %s)\n",
               o.subject.c_str(), importer->connection().connected_url().c_str(), o.channel.c_str(),
               o.on_full.c_str());
  if (o.subscribers > 0) {
    // Subscribed already: what arrives meanwhile waits in the client.
    if (auto joined = importer->publisher().wait_for_subscribers(o.subscribers, millis(o.wait_s));
        !joined) {
      return std::unexpected(joined.error());
    }
  }
  Progress progress("channel import", o.json);
  auto report = [&](bool final) {
    const nats::ImportStats s = importer->stats();
    auto extra = [&](JsonRecord& r) {
      r.add("lag", s.pending)
          .add("slow_consumer_dropped", s.slow_consumer_dropped)
          .add("channel_dropped", s.channel_dropped)
          .add("lost", s.lost)
          .add("oversized", s.oversized)
          .add("stalls", s.stalls)
          .add("acked", s.acked)
          .add("redelivered", s.redelivered)
          .add("fetch_retries", s.fetch_retries)
          .add("consumer_remade", s.consumer_remade)
          .add("subscribers", static_cast<std::uint64_t>(s.subscribers));
    };
    progress.report(
        s, importer->connection().connected_url(), extra,
        count("lag", s.pending) + ", dropped " +
            std::to_string(s.slow_consumer_dropped + s.channel_dropped) + " (slow consumer " +
            std::to_string(s.slow_consumer_dropped) + ", drop-oldest " +
            std::to_string(s.channel_dropped) + "), " + count("lost", s.lost) + ", " +
            count("oversized", s.oversized) + ", " + count("subscribers", s.subscribers) +
            (o.durable.empty() ? std::string() : ", " + count("fetch retries", s.fetch_retries)),
        final);
  };
  auto last_report = std::chrono::steady_clock::now();
  while (!stop.load(std::memory_order_relaxed)) {
    if (o.messages > 0 && importer->stats().messages >= o.messages) break;
    if (auto ran = importer->run_for(o.messages > 0 ? 50ms : 1s); !ran) {
      report(true);
      return std::unexpected(ran.error());
    }
    if (std::chrono::steady_clock::now() - last_report >= 1s) {
      last_report = std::chrono::steady_clock::now();
      report(false);
    }
  }
  report(true);
  if (!o.json)
    std::fprintf(stderr, "zcopy channel import: %s\n", importer->ledger().summary().c_str());
  return {};
}

}  // namespace zc::bench
