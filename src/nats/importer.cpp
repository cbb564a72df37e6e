// src/nats/importer.cpp: NATS subject -> channel.
#include "zcopy/nats/importer.hpp"

#include <nats/nats.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "ack_queue.hpp"
#include "nats_connection_state.hpp"
#include "nats_status.hpp"
#include "zcopy/nats/exporter.hpp"
#include "zcopy/nats/headers.hpp"

namespace zc::nats {
namespace detail {

struct ImporterState {
  ImporterState(NatsConnection connection_in, Publisher publisher_in, const ImportOptions& options)
      : connection(std::move(connection_in)),
        publisher(std::move(publisher_in)),
        sequence_prefix(options.sequence_prefix),
        subject(options.subject) {}
  ImporterState(const ImporterState&) = delete;
  ImporterState& operator=(const ImporterState&) = delete;

  NatsConnection connection;
  natsConnection* nc = nullptr;  // connection's, which keeps it where it is across moves
  Publisher publisher;
  natsSubscription* subscription = nullptr;
  jsCtx* js = nullptr;  // JetStream only
  AckQueue acks;        // JetStream only
  bool sequence_prefix = false;
  std::string subject;
  ImportStats stats{};
  // The last exporter sequence seen, to count gaps.
  bool seen_sequence = false;
  std::uint64_t last_sequence = 0;
  CpuStopwatch watch{};

  ~ImporterState() {
    if (subscription != nullptr) {
      // A durable consumer outlives us on the server: only unsubscribe a core subscription.
      if (js == nullptr) natsSubscription_Unsubscribe(subscription);
      natsSubscription_Destroy(subscription);
    }
    if (js != nullptr) jsCtx_Destroy(js);
    publisher.close();
  }
};

}  // namespace detail

namespace {

// A message whose chunk may have to wait for room; freed when this goes.
struct MessageHandle {
  natsMsg* msg = nullptr;
  ~MessageHandle() {
    if (msg != nullptr) natsMsg_Destroy(msg);
  }
};

void count_sequence(detail::ImporterState& s, natsMsg* msg) {
  const char* value = nullptr;
  if (natsMsgHeader_Get(msg, kSequenceHeader, &value) != NATS_OK || value == nullptr) return;
  const auto sequence = parse_header_number(value);
  if (!sequence) return;
  // A sequence that goes back is an exporter that started again: a new count, no loss.
  if (s.seen_sequence && *sequence > s.last_sequence + 1) {
    s.stats.lost += *sequence - s.last_sequence - 1;
  }
  s.seen_sequence = true;
  s.last_sequence = *sequence;
}

// Copies the message into a chunk and publishes it, waiting as long as the channel is full
// (block) and counting each time a publish gave up and was tried again.
// The message's stream sequence (0 when it has no JetStream metadata); counts redeliveries.
std::uint64_t stream_sequence(detail::ImporterState& s, natsMsg* msg) {
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, msg) != NATS_OK || meta == nullptr) return 0;
  const std::uint64_t sequence = meta->Sequence.Stream;
  if (meta->NumDelivered > 1) ++s.stats.redelivered;
  jsMsgMetaData_Destroy(meta);
  return sequence;
}

// Copies the message into a chunk and publishes it, waiting as long as the channel is full
// (block) and counting each time a publish gave up and was tried again. Returns the chunk it
// went into, or std::nullopt when it was refused.
Result<std::optional<std::uint32_t>> deliver(detail::ImporterState& s, natsMsg* msg) {
  const int length = natsMsg_GetDataLength(msg);
  const auto size = static_cast<std::size_t>(std::max(length, 0));
  const std::size_t prefix = s.sequence_prefix ? sizeof(std::uint64_t) : 0;
  if (size + prefix > s.publisher.pool().geometry().chunk_size) {
    ++s.stats.oversized;
    return std::nullopt;
  }
  count_sequence(s, msg);
  const std::uint64_t sequence = s.js != nullptr ? stream_sequence(s, msg) : 0;
  Result<ChunkLoan> loan = s.publisher.loan();
  while (!loan && loan.error().code() == Errc::timeout) {
    ++s.stats.stalls;
    if (s.js != nullptr) s.acks.ack_released(s.publisher);
    loan = s.publisher.loan();
  }
  if (!loan) return std::unexpected(loan.error());
  const std::uint32_t chunk = loan->index();
  if (s.js != nullptr) s.acks.chunk_reused(chunk);
  if (prefix > 0) {
    for (std::size_t i = 0; i < prefix; ++i) {
      loan->bytes()[i] = static_cast<std::byte>((sequence >> (8 * i)) & 0xff);
    }
  }
  if (size > 0) std::memcpy(loan->bytes().data() + prefix, natsMsg_GetData(msg), size);
  for (;;) {
    auto sent = s.publisher.publish(std::move(*loan), prefix + size);
    if (sent) break;
    if (sent.error().code() != Errc::timeout) return std::unexpected(sent.error());
    ++s.stats.stalls;  // the loan is still ours: try again
  }
  ++s.stats.messages;
  s.stats.bytes += size;
  return chunk;
}

// Binds (or creates) the durable pull consumer on the stream that holds the subject.
Result<void> subscribe_durable(detail::ImporterState& s, const ImportOptions& options) {
  if (natsStatus st = natsConnection_JetStream(&s.js, s.nc, nullptr); st != NATS_OK) {
    s.js = nullptr;
    return std::unexpected(nats_error(st, "nats JetStream context"));
  }
  jsSubOptions sub_options;
  jsSubOptions_Init(&sub_options);
  sub_options.Config.AckPolicy = js_AckExplicit;
  sub_options.Config.AckWait = static_cast<std::int64_t>(options.ack_wait.count()) * 1'000'000;
  sub_options.Config.MaxAckPending = 65536;
  jsErrCode code = static_cast<jsErrCode>(0);
  if (natsStatus st = js_PullSubscribe(&s.subscription, s.js, options.subject.c_str(),
                                       options.durable.c_str(), nullptr, &sub_options, &code);
      st != NATS_OK) {
    s.subscription = nullptr;
    return std::unexpected(
        nats_error(st, "nats JetStream consumer " + options.durable + " on " + options.subject));
  }
  return {};
}

Result<void> run_durable(detail::ImporterState& s, std::chrono::milliseconds wait) {
  s.acks.ack_released(s.publisher);
  natsMsgList list{};
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus st = natsSubscription_Fetch(&list, s.subscription, 64,
                                               std::max<std::int64_t>(wait.count(), 500), &code);
  if (st == NATS_TIMEOUT) return {};
  if (st != NATS_OK) return std::unexpected(nats_error(st, "nats fetch " + s.subject));
  Result<void> result;
  for (int i = 0; i < list.Count; ++i) {
    natsMsg* msg = list.Msgs[i];
    list.Msgs[i] = nullptr;
    if (!result) {
      natsMsg_Destroy(msg);  // not acked: delivered again
      continue;
    }
    auto chunk = deliver(s, msg);
    if (!chunk) {
      result = std::unexpected(chunk.error());
      natsMsg_Destroy(msg);
    } else if (!*chunk) {
      // Refused (oversized): acknowledged, or it would come back forever.
      natsMsg_Ack(msg, nullptr);
      natsMsg_Destroy(msg);
    } else {
      s.acks.push(**chunk, msg);
    }
  }
  natsMsgList_Destroy(&list);
  s.acks.ack_released(s.publisher);
  return result;
}

}  // namespace

Result<Importer> Importer::create(NatsConnection connection, Publisher publisher,
                                  const ImportOptions& options) {
  if (!valid_subscribe_subject(options.subject)) {
    return fail(Errc::invalid_argument, "import subject '" + options.subject + "'",
                "tokens separated by '.', '*' for one token, '>' for the rest");
  }
  natsConnection* nc = connection.state_->connection;
  auto state =
      std::make_unique<detail::ImporterState>(std::move(connection), std::move(publisher), options);
  state->nc = nc;
  if (!options.durable.empty()) {
    if (auto subscribed = subscribe_durable(*state, options); !subscribed) {
      return std::unexpected(subscribed.error());
    }
    return Importer(std::move(state));
  }
  if (natsStatus s =
          natsConnection_SubscribeSync(&state->subscription, nc, options.subject.c_str());
      s != NATS_OK) {
    state->subscription = nullptr;
    return std::unexpected(nats_error(s, "nats subscribe " + options.subject));
  }
  if (natsStatus s = natsSubscription_SetPendingLimits(
          state->subscription, options.pending_messages, options.pending_bytes);
      s != NATS_OK) {
    return std::unexpected(nats_error(s, "nats pending limits"));
  }
  // The round trip makes the server register the subscription, or refuse it.
  if (auto flushed = state->connection.flush(std::chrono::seconds(10)); !flushed) {
    return std::unexpected(flushed.error());
  }
  // A refused subscription comes back as -ERR before the flush's PONG, which the client records
  // as the connection's last error.
  const char* refused = nullptr;
  if (natsConnection_GetLastError(nc, &refused) == NATS_NOT_PERMITTED) {
    return fail(Errc::rejected, "nats subscribe " + options.subject,
                refused != nullptr ? refused : "not permitted");
  }
  if (std::string error = state->connection.last_async_error(); !error.empty()) {
    return fail(Errc::rejected, "nats subscribe " + options.subject, error);
  }
  return Importer(std::move(state));
}

Importer::Importer(std::unique_ptr<detail::ImporterState> state) noexcept
    : state_(std::move(state)) {}
Importer::Importer(Importer&&) noexcept = default;
Importer& Importer::operator=(Importer&&) noexcept = default;
Importer::~Importer() = default;

Result<void> Importer::run_for(std::chrono::milliseconds budget) {
  detail::ImporterState& s = *state_;
  const auto deadline = std::chrono::steady_clock::now() + budget;
  for (;;) {
    s.publisher.service();
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return {};
    // Short waits, so that subscribers that join are admitted while the subject is quiet.
    const auto wait =
        std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now),
                   std::chrono::milliseconds(1), std::chrono::milliseconds(50));
    if (s.js != nullptr) {
      if (auto ran = run_durable(s, wait); !ran) return ran;
      continue;
    }
    MessageHandle message;
    natsStatus status = natsSubscription_NextMsg(&message.msg, s.subscription, wait.count());
    if (status == NATS_TIMEOUT) continue;
    if (status == NATS_SLOW_CONSUMER) continue;  // counted from the client's drop count
    if (status != NATS_OK) {
      message.msg = nullptr;
      return std::unexpected(nats_error(status, "nats receive " + s.subject));
    }
    if (auto delivered = deliver(s, message.msg); !delivered) {
      return std::unexpected(delivered.error());
    }
  }
}

ImportStats Importer::stats() const {
  ImportStats stats = state_->stats;
  std::int64_t dropped = 0;
  if (natsSubscription_GetDropped(state_->subscription, &dropped) == NATS_OK && dropped > 0) {
    stats.slow_consumer_dropped = static_cast<std::uint64_t>(dropped);
  }
  int pending_messages = 0;
  int pending_bytes = 0;
  if (natsSubscription_GetPending(state_->subscription, &pending_messages, &pending_bytes) ==
          NATS_OK &&
      pending_messages > 0) {
    stats.pending = static_cast<std::uint64_t>(pending_messages);
  }
  stats.acked = state_->acks.acked();
  stats.awaiting_ack = state_->acks.waiting();
  const PublisherStats channel = state_->publisher.stats();
  stats.channel_dropped = channel.dropped;
  stats.subscribers = channel.subscribers;
  stats.connection = state_->connection.stats();
  return stats;
}

TransferLedger Importer::ledger() const {
  TransferLedger ledger{.method = "nats-import", .bytes = state_->stats.bytes};
  // The kernel copies each payload to the client (recv), the client into its message, and we
  // once into the chunk; local subscribers then read the chunk in place.
  ledger.bytes_copied_kernel = state_->stats.bytes;
  ledger.bytes_copied_user = 2 * state_->stats.bytes;
  state_->watch.stop_into(ledger);
  return ledger;
}

const NatsConnection& Importer::connection() const noexcept {
  return state_->connection;
}
Publisher& Importer::publisher() noexcept {
  return state_->publisher;
}

}  // namespace zc::nats
