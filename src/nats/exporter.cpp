// src/nats/exporter.cpp: channel -> NATS subject.
#include "zcopy/nats/exporter.hpp"

#include <nats/nats.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <string>

#include "nats_connection_state.hpp"
#include "nats_status.hpp"
#include "zcopy/nats/headers.hpp"

namespace zc::nats {
namespace detail {

struct ExporterState {
  ~ExporterState() {
    if (js != nullptr) jsCtx_Destroy(js);
  }

  // Publishes the stream refused (an error acknowledgement): counted on the client's thread, so
  // first here, to outlive the connection that calls it.
  std::atomic<std::uint64_t> rejected{0};
  NatsConnection connection;
  natsConnection* nc = nullptr;  // connection's, which keeps it where it is across moves
  Subscriber subscriber;
  jsCtx* js = nullptr;  // JetStream only
  std::string subject;
  std::string host;
  ExportStats stats;
  bool seen_any = false;
  bool ended = false;
  CpuStopwatch watch{};
};

}  // namespace detail

namespace {

std::string host_name() {
  char buffer[256] = {};
  if (::gethostname(buffer, sizeof buffer - 1) != 0) return "unknown";
  return buffer;
}

std::int64_t realtime_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Publishes one sample with its headers. The bytes are the client's once this returns.
Result<void> publish_one(detail::ExporterState& s, const Sample& sample) {
  const auto payload = sample.bytes();
  if (payload.size() > static_cast<std::size_t>(INT_MAX)) {
    ++s.stats.refused;
    return {};
  }
  natsMsg* msg = nullptr;
  natsStatus status = natsMsg_Create(&msg, s.subject.c_str(), nullptr,
                                     reinterpret_cast<const char*>(payload.data()),
                                     static_cast<int>(payload.size()));
  if (status != NATS_OK) return std::unexpected(nats_error(status, "nats message"));
  const std::string sequence = std::to_string(sample.sequence());
  const std::string published = std::to_string(realtime_ns());
  status = natsMsgHeader_Set(msg, kSequenceHeader, sequence.c_str());
  if (status == NATS_OK) status = natsMsgHeader_Set(msg, kPublishedHeader, published.c_str());
  if (status == NATS_OK) status = natsMsgHeader_Set(msg, kHostHeader, s.host.c_str());
  if (status == NATS_OK && s.js != nullptr) {
    // On success the client owns the message and sets msg to null.
    status = js_PublishMsgAsync(s.js, &msg, nullptr);
  } else if (status == NATS_OK) {
    status = natsConnection_PublishMsg(s.nc, msg);
  }
  if (msg != nullptr) natsMsg_Destroy(msg);
  switch (status) {
    case NATS_OK:
      ++s.stats.messages;
      s.stats.bytes += payload.size();
      return {};
    case NATS_MAX_PAYLOAD:
      ++s.stats.refused;
      return {};
    case NATS_INSUFFICIENT_BUFFER:
      ++s.stats.unsent;
      return {};
    default:
      return std::unexpected(nats_error(status, "nats publish " + s.subject));
  }
}

void count_rejected(jsCtx*, jsPubAckErr*, void* closure) {
  static_cast<detail::ExporterState*>(closure)->rejected.fetch_add(1, std::memory_order_relaxed);
}

// The stream that stores the subject: found by name, or created for the subject.
Result<void> bind_stream(detail::ExporterState& s, const ExportOptions& options) {
  jsOptions js_options;
  jsOptions_Init(&js_options);
  // Messages the client holds while waiting for the stream's acknowledgements.
  js_options.PublishAsync.MaxPending = 4096;
  // Without a handler a refused publish only leaves the pending list, uncounted.
  js_options.PublishAsync.ErrHandler = count_rejected;
  js_options.PublishAsync.ErrHandlerClosure = &s;
  if (natsStatus st = natsConnection_JetStream(&s.js, s.nc, &js_options); st != NATS_OK) {
    s.js = nullptr;
    return std::unexpected(nats_error(st, "nats JetStream context"));
  }
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus st = js_GetStreamInfo(&info, s.js, options.jetstream_stream.c_str(), nullptr, &code);
  if (st == NATS_OK) {
    jsStreamInfo_Destroy(info);
    return {};
  }
  if (st != NATS_NOT_FOUND) {
    return std::unexpected(nats_error(st, "nats stream " + options.jetstream_stream));
  }
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  const char* subjects[] = {options.subject.c_str()};
  config.Name = options.jetstream_stream.c_str();
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Replicas = options.replicas;
  config.Storage = js_FileStorage;
  st = js_AddStream(&info, s.js, &config, nullptr, &code);
  if (st != NATS_OK) {
    return std::unexpected(nats_error(st, "nats add stream " + options.jetstream_stream));
  }
  jsStreamInfo_Destroy(info);
  return {};
}

// Waits until the stream acknowledged everything published; counts what it never answered (the
// refusals are counted as they come).
Result<void> complete_stream(detail::ExporterState& s) {
  jsPubOptions wait;
  jsPubOptions_Init(&wait);
  wait.MaxWait = 60'000;
  if (natsStatus st = js_PublishAsyncComplete(s.js, &wait); st != NATS_OK) {
    return std::unexpected(nats_error(st, "nats JetStream acknowledgements"));
  }
  natsMsgList failed{};
  if (js_PublishAsyncGetPendingList(&failed, s.js) == NATS_OK) {
    s.stats.not_stored += static_cast<std::uint64_t>(failed.Count);
    natsMsgList_Destroy(&failed);
  }
  return {};
}

}  // namespace

Result<Exporter> Exporter::create(NatsConnection connection, Subscriber subscriber,
                                  const ExportOptions& options) {
  if (!valid_publish_subject(options.subject)) {
    return fail(Errc::invalid_argument, "export subject '" + options.subject + "'",
                "a subject to publish on has no wildcard, space or empty token");
  }
  natsConnection* nc = connection.state_->connection;
  auto state = std::unique_ptr<detail::ExporterState>(new detail::ExporterState{
      .connection = std::move(connection),
      .nc = nc,
      .subscriber = std::move(subscriber),
      .subject = options.subject,
      .host = host_name(),
      .stats = {},
  });
  if (!options.jetstream_stream.empty()) {
    if (auto bound = bind_stream(*state, options); !bound) return std::unexpected(bound.error());
  }
  return Exporter(std::move(state));
}

Exporter::Exporter(std::unique_ptr<detail::ExporterState> state) noexcept
    : state_(std::move(state)) {}
Exporter::Exporter(Exporter&&) noexcept = default;
Exporter& Exporter::operator=(Exporter&&) noexcept = default;
Exporter::~Exporter() = default;

Result<bool> Exporter::run_for(std::chrono::milliseconds budget) {
  detail::ExporterState& s = *state_;
  if (s.ended) return false;
  const auto deadline = std::chrono::steady_clock::now() + budget;
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return true;
    const auto wait =
        std::min(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now),
                 std::chrono::milliseconds(100));
    auto sample = s.subscriber.receive(std::max(wait, std::chrono::milliseconds(1)));
    if (!sample) {
      const Error& error = sample.error();
      if (error.code() == Errc::timeout) continue;
      if (error.code() == Errc::closed && error.detail() == "publisher closed") {
        // Everything the client holds must reach the server before the end is reported.
        if (s.js != nullptr) {
          if (auto stored = complete_stream(s); !stored) return std::unexpected(stored.error());
        }
        if (auto flushed = s.connection.flush(std::chrono::seconds(30)); !flushed) {
          return std::unexpected(flushed.error());
        }
        s.ended = true;
        return false;
      }
      return std::unexpected(error);
    }
    if (s.seen_any && sample->sequence() > s.stats.last_sequence + 1) {
      s.stats.channel_lost += sample->sequence() - s.stats.last_sequence - 1;
    }
    s.seen_any = true;
    s.stats.last_sequence = sample->sequence();
    if (auto sent = publish_one(s, *sample); !sent) return std::unexpected(sent.error());
    sample->reset();  // the client has the bytes: the chunk may go back at once
  }
}

ExportStats Exporter::stats() const {
  ExportStats stats = state_->stats;
  stats.not_stored += state_->rejected.load(std::memory_order_relaxed);
  stats.connection = state_->connection.stats();
  return stats;
}

TransferLedger Exporter::ledger() const {
  TransferLedger ledger{.method = "nats-export", .bytes = state_->stats.bytes};
  // libnats copies each payload into its message and again into its write buffer; the kernel
  // copies it once more into the socket.
  ledger.bytes_copied_user = 2 * state_->stats.bytes;
  ledger.bytes_copied_kernel = state_->stats.bytes;
  state_->watch.stop_into(ledger);
  return ledger;
}

const NatsConnection& Exporter::connection() const noexcept {
  return state_->connection;
}

}  // namespace zc::nats
