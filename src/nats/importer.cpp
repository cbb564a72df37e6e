// src/nats/importer.cpp: NATS subject -> channel.
#include "zcopy/nats/importer.hpp"

#include <nats/nats.h>

#include <algorithm>
#include <cstring>
#include <span>
#include <thread>
#include <vector>

#include "ack_queue.hpp"
#include "fetch_failure.hpp"
#include "nats_connection_state.hpp"
#include "nats_status.hpp"
#include "zcopy/nats/exporter.hpp"
#include "zcopy/nats/headers.hpp"

namespace zc::nats {
namespace detail {

struct ImporterState {
  ImporterState(NatsConnection connection_in, Publisher publisher_in,
                const ImportOptions& options_in)
      : connection(std::move(connection_in)),
        publisher(std::move(publisher_in)),
        options(options_in),
        sequence_prefix(options_in.sequence_prefix),
        subject(options_in.subject) {}
  ImporterState(const ImporterState&) = delete;
  ImporterState& operator=(const ImporterState&) = delete;

  NatsConnection connection;
  natsConnection* nc = nullptr;  // connection's, which keeps it where it is across moves
  Publisher publisher;
  natsSubscription* subscription = nullptr;
  jsCtx* js = nullptr;  // JetStream only
  AckQueue acks;        // JetStream only
  ImportOptions options;
  bool sequence_prefix = false;
  std::string subject;
  ImportStats stats{};
  // The last exporter sequence seen, to count gaps.
  bool seen_sequence = false;
  std::uint64_t last_sequence = 0;
  CpuStopwatch watch{};
  // JetStream: after a failed fetch, no new one before retry_at; the pause doubles up to a second
  // while fetches keep failing.
  std::chrono::steady_clock::time_point retry_at{};
  std::chrono::milliseconds backoff{0};
  // When we last asked JetStream whether the consumer still exists.
  std::chrono::steady_clock::time_point consumer_checked{};
  // The connection's asynchronous errors before the import began: only later ones are ours.
  std::uint64_t async_errors_before = 0;
  // Received but not yet in the channel (owned), from backlog[next] on: a full channel under
  // block keeps them here between calls, so run_for() returns on time and nothing is lost
  // meanwhile. Refilled only once empty, so its storage serves every batch.
  std::vector<natsMsg*> backlog;
  std::size_t next = 0;
  // The most messages one loan_n()/publish_n() moves: half a queue, so that subscribers read one
  // batch while the next is filled.
  std::size_t batch = 1;
  // backlog[next, next + loaded) copied into loans[0, loaded), which publish_n() has not taken
  // yet; their lengths and chunks. Sized `batch` once.
  std::vector<ChunkLoan> loans;
  std::vector<std::size_t> lengths;
  std::vector<std::uint32_t> chunks;
  std::size_t loaded = 0;

  ~ImporterState() {
    loans.clear();
    for (std::size_t i = next; i < backlog.size(); ++i) natsMsg_Destroy(backlog[i]);
    acks.drop_all();  // before their subscription: the server redelivers them
    if (subscription != nullptr) {
      // The client's reader thread may be queueing a message for the subscription right now, and
      // libnats before 3.6 does not keep it alive meanwhile: closing the connection joins that
      // thread, so the subscription goes only once nobody can touch it. A core subscription is
      // ended first and the round trip waited for (bounded, in case the server is away), so the
      // close does not cut a message in half: the client leaks the part it holds. A durable
      // consumer outlives us on the server.
      if (js == nullptr && natsSubscription_Unsubscribe(subscription) == NATS_OK) {
        natsConnection_FlushTimeout(nc, 1000);
      }
      natsConnection_Close(nc);
      natsSubscription_Destroy(subscription);
    }
    if (js != nullptr) jsCtx_Destroy(js);
    publisher.close();
  }
};

}  // namespace detail

namespace {

// The most messages one JetStream fetch asks for.
constexpr std::size_t kMaxFetch = 64;
// The most messages one batch moves into the channel.
constexpr std::size_t kMaxBatch = 32;

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

// The message's stream sequence (0 when it has no JetStream metadata); counts redeliveries.
std::uint64_t stream_sequence(detail::ImporterState& s, natsMsg* msg) {
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, msg) != NATS_OK || meta == nullptr) return 0;
  const std::uint64_t sequence = meta->Sequence.Stream;
  if (meta->NumDelivered > 1) ++s.stats.redelivered;
  jsMsgMetaData_Destroy(meta);
  return sequence;
}

std::size_t payload_size(natsMsg* msg) {
  return static_cast<std::size_t>(std::max(natsMsg_GetDataLength(msg), 0));
}

// Copies `msg` into loan `k` of the batch, behind its stream sequence when there is a prefix.
void load(detail::ImporterState& s, std::size_t k, natsMsg* msg, std::size_t prefix) {
  ChunkLoan& loan = s.loans[k];
  count_sequence(s, msg);
  if (prefix > 0) {
    const std::uint64_t sequence = s.js != nullptr ? stream_sequence(s, msg) : 0;
    for (std::size_t i = 0; i < prefix; ++i) {
      loan.bytes()[i] = static_cast<std::byte>((sequence >> (8 * i)) & 0xff);
    }
  }
  const std::size_t size = payload_size(msg);
  if (size > 0) std::memcpy(loan.bytes().data() + prefix, natsMsg_GetData(msg), size);
  s.lengths[k] = prefix + size;
  s.chunks[k] = loan.index();
}

// Moves the backlog into the channel a batch at a time: as many chunks as are free (up to the
// batch), a copy into each, one publish_n(). Waits on a full channel (block) end at `deadline`,
// each counted as a stall, and what is left stays for the next call. Oversized messages are
// refused here (and, from JetStream, acknowledged, or they would come back forever).
Result<void> drain_backlog(detail::ImporterState& s,
                           std::chrono::steady_clock::time_point deadline) {
  const std::size_t prefix = s.sequence_prefix ? sizeof(std::uint64_t) : 0;
  const std::size_t chunk_size = s.publisher.pool().geometry().chunk_size;
  auto fits = [&](natsMsg* msg) { return payload_size(msg) + prefix <= chunk_size; };
  while (s.next < s.backlog.size()) {
    if (s.loaded == 0) {
      natsMsg* front = s.backlog[s.next];
      if (!fits(front)) {
        ++s.stats.oversized;
        if (s.js != nullptr) natsMsg_Ack(front, nullptr);
        natsMsg_Destroy(front);
        ++s.next;
        continue;
      }
      std::size_t run = 1;
      while (run < s.batch && s.next + run < s.backlog.size() && fits(s.backlog[s.next + run])) {
        ++run;
      }
      Result<std::size_t> lent = s.publisher.loan_n(std::span(s.loans).first(run), deadline);
      if (!lent) {
        if (lent.error().code() != Errc::timeout) return std::unexpected(lent.error());
        ++s.stats.stalls;
        if (s.js != nullptr) s.acks.ack_released(s.publisher);
        if (std::chrono::steady_clock::now() >= deadline) return {};
        continue;
      }
      // Chunks lent to us again are free: whatever waited on them is read by everyone.
      if (s.js != nullptr) s.acks.ack_released(s.publisher);
      for (std::size_t k = 0; k < *lent; ++k) load(s, k, s.backlog[s.next + k], prefix);
      s.loaded = *lent;
    }
    auto sent = s.publisher.publish_n(std::span(s.loans).first(s.loaded),
                                      std::span(s.lengths).first(s.loaded), deadline);
    if (!sent) {
      if (sent.error().code() != Errc::timeout) return std::unexpected(sent.error());
      ++s.stats.stalls;  // the loans are still ours: try again
      if (std::chrono::steady_clock::now() >= deadline) return {};
      continue;
    }
    for (std::size_t k = 0; k < s.loaded; ++k) {
      natsMsg* msg = s.backlog[s.next + k];
      ++s.stats.messages;
      s.stats.bytes += s.lengths[k] - prefix;
      if (s.js != nullptr) {
        if (prefix == 0) (void)stream_sequence(s, msg);  // counts redeliveries
        s.acks.push(s.chunks[k], msg);
      } else {
        natsMsg_Destroy(msg);
      }
    }
    s.next += s.loaded;
    s.loaded = 0;
  }
  s.backlog.clear();
  s.next = 0;
  return {};
}

// Core NATS: the next message, waiting up to `wait`, and whatever else the client has queued
// already, up to a batch: one wake-up of this thread and one publish for all of them.
Result<void> receive_core(detail::ImporterState& s, std::chrono::milliseconds wait) {
  natsMsg* msg = nullptr;
  const natsStatus status = natsSubscription_NextMsg(&msg, s.subscription, wait.count());
  if (status == NATS_TIMEOUT) return {};
  if (status == NATS_SLOW_CONSUMER) return {};  // counted from the client's drop count
  if (status != NATS_OK) return std::unexpected(nats_error(status, "nats receive " + s.subject));
  s.backlog.push_back(msg);
  while (s.backlog.size() < s.batch &&
         natsSubscription_NextMsg(&msg, s.subscription, 0) == NATS_OK) {
    s.backlog.push_back(msg);
  }
  return {};
}

// Binds (or creates) the durable pull consumer on the stream that holds the subject. The status,
// and the client's text for it in `text`.
natsStatus pull_subscribe(detail::ImporterState& s, std::string& text) {
  jsSubOptions sub_options;
  jsSubOptions_Init(&sub_options);
  sub_options.Config.AckPolicy = js_AckExplicit;
  sub_options.Config.AckWait = static_cast<std::int64_t>(s.options.ack_wait.count()) * 1'000'000;
  sub_options.Config.MaxAckPending = 65536;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus st = js_PullSubscribe(&s.subscription, s.js, s.options.subject.c_str(),
                                         s.options.durable.c_str(), nullptr, &sub_options, &code);
  if (st != NATS_OK) {
    s.subscription = nullptr;
    natsStatus last = NATS_OK;
    const char* error = nats_GetLastError(&last);
    text = error != nullptr ? error : "";
  }
  return st;
}

std::string consumer_operation(const detail::ImporterState& s) {
  return "nats JetStream consumer " + s.options.durable + " on " + s.options.subject;
}

Result<void> subscribe_durable(detail::ImporterState& s) {
  if (natsStatus st = natsConnection_JetStream(&s.js, s.nc, nullptr); st != NATS_OK) {
    s.js = nullptr;
    return std::unexpected(nats_error(st, "nats JetStream context"));
  }
  std::string text;
  if (natsStatus st = pull_subscribe(s, text); st != NATS_OK) {
    return std::unexpected(nats_error(st, consumer_operation(s)));
  }
  return {};
}

// A permission the server refused us since the import began (the pull request's publish, the
// acknowledgement's, the inbox's subscription): reported asynchronously, and no retry mends it.
Result<void> check_permissions(const detail::ImporterState& s) {
  if (s.connection.stats().async_errors == s.async_errors_before) return {};
  const std::string error = s.connection.last_async_error();
  if (!detail::is_permission_violation(error)) return {};
  return fail(Errc::rejected, "nats fetch " + s.subject, error);
}

// After a fetch that failed for a passing reason: no new one for a pause that doubles, from
// 20 ms up to a second, while they keep failing.
void back_off(detail::ImporterState& s) {
  using std::chrono::milliseconds;
  ++s.stats.fetch_retries;
  s.backoff = std::clamp(s.backoff * 2, milliseconds(20), milliseconds(1000));
  s.retry_at = std::chrono::steady_clock::now() + s.backoff;
}

// The durable consumer was deleted under us: make it again (it starts over, and subscribers see
// the duplicates by their stream sequence), unless that fails for good.
Result<void> remake_consumer(detail::ImporterState& s, const std::string& why) {
  if (s.subscription != nullptr) {
    // Acks would go through the subscription, and to a consumer that no longer exists: the new
    // one delivers these messages again.
    s.acks.drop_all();
    natsSubscription_Destroy(s.subscription);
    s.subscription = nullptr;
  }
  std::string text;
  const natsStatus st = pull_subscribe(s, text);
  if (st == NATS_OK) {
    ++s.stats.consumer_remade;
    s.backoff = std::chrono::milliseconds(0);
    return {};
  }
  if (detail::classify_fetch_failure(st, text) == detail::FetchFailure::transient) {
    back_off(s);
    return {};
  }
  return fail(Errc::closed, consumer_operation(s),
              why + ", and it cannot be made again: " + nats_error(st, "").detail());
}

// True when JetStream answers that our consumer (or its stream) does not exist.
bool consumer_missing(detail::ImporterState& s) {
  jsConsumerInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const natsStatus st = natsSubscription_GetConsumerInfo(&info, s.subscription, nullptr, &code);
  if (info != nullptr) jsConsumerInfo_Destroy(info);
  return st != NATS_OK && (code == JSConsumerNotFoundErr || code == JSStreamNotFoundErr);
}

Result<void> run_durable(detail::ImporterState& s, std::chrono::milliseconds wait) {
  s.acks.ack_released(s.publisher);
  if (s.subscription == nullptr) return remake_consumer(s, "the consumer is gone");
  // No more than the channel has chunks free for: a fetched message that waits for room ages
  // toward its ack wait, and past it the server sends it again.
  const std::size_t room = std::min<std::size_t>(s.publisher.pool().stats().free, kMaxFetch);
  if (room == 0) {
    std::this_thread::sleep_for(std::min(wait, std::chrono::milliseconds(1)));
    return {};
  }
  natsMsgList list{};
  jsErrCode code = static_cast<jsErrCode>(0);
  // The server needs some time to answer a pull request; shorter waits come back empty.
  const natsStatus st = natsSubscription_Fetch(&list, s.subscription, static_cast<int>(room),
                                               std::max<std::int64_t>(wait.count(), 500), &code);
  if (st != NATS_OK) {
    if (auto permitted = check_permissions(s); !permitted) return permitted;
    if (st == NATS_TIMEOUT) {
      // Pull requests for a deleted consumer go unanswered: while nothing arrives, ask
      // JetStream now and then whether the consumer is still there.
      const auto now = std::chrono::steady_clock::now();
      if (now - s.consumer_checked < std::chrono::seconds(2)) return {};
      s.consumer_checked = now;
      if (!consumer_missing(s)) return {};
      return remake_consumer(s, "the consumer is gone");
    }
    Error error = nats_error(st, "nats fetch " + s.subject);
    if (natsConnection_IsClosed(s.nc)) return std::unexpected(std::move(error));
    natsStatus last = NATS_OK;
    const char* text = nats_GetLastError(&last);
    detail::FetchFailure failure = detail::classify_fetch_failure(st, text != nullptr ? text : "");
    // Nobody answers pull requests for a consumer that is gone, as for one whose server has no
    // JetStream yet: JetStream itself tells the two apart.
    if (st == NATS_NO_RESPONDERS && consumer_missing(s))
      failure = detail::FetchFailure::consumer_gone;
    switch (failure) {
      case detail::FetchFailure::transient:
        back_off(s);
        return {};
      case detail::FetchFailure::consumer_gone:
        return remake_consumer(s, "the consumer is gone (" + error.detail() + ")");
      case detail::FetchFailure::permanent:
        return std::unexpected(std::move(error));
    }
  }
  s.backoff = std::chrono::milliseconds(0);
  for (int i = 0; i < list.Count; ++i) {
    s.backlog.push_back(list.Msgs[i]);
    list.Msgs[i] = nullptr;
  }
  natsMsgList_Destroy(&list);
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
  auto state =
      std::make_unique<detail::ImporterState>(std::move(connection), std::move(publisher), options);
  state->nc = nc;
  state->async_errors_before = state->connection.stats().async_errors;
  const std::size_t chunks = state->publisher.pool().geometry().chunk_count;
  state->batch =
      std::clamp<std::size_t>(std::min(state->publisher.queue_depth(), chunks) / 2, 1, kMaxBatch);
  state->loans.resize(state->batch);
  state->lengths.resize(state->batch);
  state->chunks.resize(state->batch);
  state->backlog.reserve(std::max(state->batch, kMaxFetch));
  if (!options.durable.empty()) {
    if (auto subscribed = subscribe_durable(*state); !subscribed) {
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
    if (s.js != nullptr) s.acks.ack_released(s.publisher);
    if (auto drained = drain_backlog(s, deadline); !drained) return drained;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return {};
    // Short waits, so that subscribers that join are admitted while the subject is quiet.
    const auto wait =
        std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now),
                   std::chrono::milliseconds(1), std::chrono::milliseconds(50));
    if (s.js != nullptr) {
      if (now < s.retry_at) {
        // Backing off after a failed fetch; acks and new subscribers are still served.
        std::this_thread::sleep_for(
            std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(s.retry_at - now) +
                               std::chrono::milliseconds(1)));
        continue;
      }
      if (auto fetched = run_durable(s, wait); !fetched) return fetched;
      continue;
    }
    if (auto received = receive_core(s, wait); !received) return received;
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
