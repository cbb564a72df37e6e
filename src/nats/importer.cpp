// src/nats/importer.cpp: NATS subject -> channel.
#include "zcopy/nats/importer.hpp"

#include <nats/nats.h>

#include <algorithm>
#include <cstring>

#include "nats_connection_state.hpp"
#include "nats_status.hpp"
#include "zcopy/nats/exporter.hpp"
#include "zcopy/nats/headers.hpp"

namespace zc::nats {
namespace detail {

struct ImporterState {
  NatsConnection connection;
  natsConnection* nc = nullptr;  // connection's, which keeps it where it is across moves
  Publisher publisher;
  natsSubscription* subscription = nullptr;
  std::string subject;
  ImportStats stats{};
  // The last exporter sequence seen, to count gaps.
  bool seen_sequence = false;
  std::uint64_t last_sequence = 0;
  CpuStopwatch watch{};

  ~ImporterState() {
    if (subscription != nullptr) {
      natsSubscription_Unsubscribe(subscription);
      natsSubscription_Destroy(subscription);
    }
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
Result<void> deliver(detail::ImporterState& s, natsMsg* msg) {
  const int length = natsMsg_GetDataLength(msg);
  const auto size = static_cast<std::size_t>(std::max(length, 0));
  if (size > s.publisher.pool().geometry().chunk_size) {
    ++s.stats.oversized;
    return {};
  }
  count_sequence(s, msg);
  Result<ChunkLoan> loan = s.publisher.loan();
  while (!loan && loan.error().code() == Errc::timeout) {
    ++s.stats.stalls;
    loan = s.publisher.loan();
  }
  if (!loan) return std::unexpected(loan.error());
  if (size > 0) std::memcpy(loan->bytes().data(), natsMsg_GetData(msg), size);
  for (;;) {
    auto sent = s.publisher.publish(std::move(*loan), size);
    if (sent) break;
    if (sent.error().code() != Errc::timeout) return std::unexpected(sent.error());
    ++s.stats.stalls;  // the loan is still ours: try again
  }
  ++s.stats.messages;
  s.stats.bytes += size;
  return {};
}

}  // namespace

Result<Importer> Importer::create(NatsConnection connection, Publisher publisher,
                                  const ImportOptions& options) {
  if (!valid_subscribe_subject(options.subject)) {
    return fail(Errc::invalid_argument, "import subject '" + options.subject + "'",
                "tokens separated by '.', '*' for one token, '>' for the rest");
  }
  natsConnection* nc = connection.state_->connection;
  auto state = std::unique_ptr<detail::ImporterState>(new detail::ImporterState{
      .connection = std::move(connection),
      .nc = nc,
      .publisher = std::move(publisher),
      .subject = options.subject,
  });
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
