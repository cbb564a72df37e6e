// zcopy/nats/importer.hpp: a NATS subject (wildcards allowed) fed into a local channel.
//
//   auto nats = zc::nats::NatsConnection::connect({.urls = {"nats://hub:4222"}});
//   auto pub = zc::Publisher::create("prices", {.chunk_size = 1 << 20});
//   auto in = zc::nats::Importer::create(std::move(*nats), std::move(*pub), {.subject =
//   "prices.>"}); for (;;) { in->run_for(std::chrono::seconds(1)); print(in->stats()); }
//
// Each message comes off the network once: the kernel copies it to the client, the client into
// its message, and the importer once into a loaned chunk, which every local subscriber then
// reads in place. A message larger than the channel's chunk is refused and counted, never cut.
// Messages go into the channel in batches (what the client has queued already, up to half a
// queue): one loan_n() and one publish_n() for all of them.
//
// When local subscribers lag and the channel is full, the channel's Backpressure decides: under
// block the importer waits for them and the client queues what keeps arriving, up to its pending
// limits; past them the client drops messages, counted in slow_consumer_dropped. Under
// drop_oldest the channel takes back the oldest unread messages, counted in channel_dropped.
// Messages exported by zcopy carry their channel sequence (headers.hpp): a jump in it is counted
// in lost (core NATS loses what was published while no server carried our subscription).
//
// With a durable JetStream consumer (ImportOptions::durable) messages are fetched in batches of
// no more than the channel has chunks free (a fetched message that waited for room would age
// toward its ack wait) and acknowledged only once no local subscriber holds their chunk any more
// (ack_queue.hpp). A fetch
// that fails while the server is away, restarting or electing a leader is retried after a pause
// that grows up to a second (counted in fetch_retries); a deleted consumer is made again; what
// no retry can mend (a permission the account lacks, a stream that is gone, a bad config) ends
// run_for() with the error.
//
// Synchronization. One thread drives an Importer; libnats reads the socket on its own thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "zcopy/channel/publisher.hpp"
#include "zcopy/core/error.hpp"
#include "zcopy/core/transfer_ledger.hpp"
#include "zcopy/nats/nats_connection.hpp"

namespace zc::nats {

struct ImportOptions {
  std::string subject{};
  // JetStream: read through this durable consumer (created on the stream that holds `subject`
  // if it does not exist yet) instead of a core subscription. Each message is acknowledged only
  // once every local subscriber has released its chunk; kill the import at any point and start
  // it again, and what was not fully read is delivered again.
  std::string durable{};
  // How long the server waits for an acknowledgement before it delivers the message again.
  std::chrono::milliseconds ack_wait{30000};
  // Put the message's JetStream stream sequence in front of its payload, as 8 bytes
  // (little-endian), so that subscribers can drop the duplicates a restart brings.
  bool sequence_prefix = false;
  // What the client may queue for us while the channel is full; -1: no limit.
  int pending_messages = 65536;
  int pending_bytes = 256 * 1024 * 1024;
};

struct ImportStats {
  std::uint64_t messages = 0;               // published into the channel
  std::uint64_t bytes = 0;                  // their payload bytes
  std::uint64_t oversized = 0;              // larger than a chunk: refused
  std::uint64_t slow_consumer_dropped = 0;  // dropped by the client past its pending limits
  std::uint64_t channel_dropped = 0;        // taken back by drop_oldest
  std::uint64_t lost = 0;                   // gaps in the exporters' sequence numbers
  std::uint64_t stalls = 0;                 // publishes that timed out on a full channel, retried
  std::uint64_t acked = 0;                  // JetStream: acknowledged after the last release
  std::uint64_t redelivered = 0;            // JetStream: delivered more than once by the server
  std::uint64_t awaiting_ack = 0;           // JetStream: published, still held by a subscriber
  std::uint64_t fetch_retries = 0;          // JetStream: failed fetches retried after a pause
  std::uint64_t consumer_remade = 0;        // JetStream: the durable consumer made again
  std::uint64_t pending = 0;                // queued in the client now (lag)
  std::size_t subscribers = 0;              // local subscribers now
  NatsConnectionStats connection{};
};

namespace detail {
struct ImporterState;
}

class Importer {
 public:
  // Subscribes to options.subject and waits until the server has the subscription, so nothing
  // published after this returns is missed. Errc::invalid_argument for a bad subject,
  // Errc::rejected when the account may not subscribe to it.
  static Result<Importer> create(NatsConnection connection, Publisher publisher,
                                 const ImportOptions& options);

  Importer(Importer&&) noexcept;
  Importer& operator=(Importer&&) noexcept;
  Importer(const Importer&) = delete;
  Importer& operator=(const Importer&) = delete;
  // Closes the channel (subscribers drain and see the end) and the connection.
  ~Importer();

  // Moves messages from the subject into the channel for about `budget`, and admits local
  // subscribers meanwhile. A full channel makes it wait until the budget's end at most, never
  // for the channel's whole timeout past it. Errc::closed when the connection closed for good,
  // Errc::rejected when the server revoked our subscription or refused what the import needs
  // (permissions); with JetStream, the error that made a fetch fail for good.
  Result<void> run_for(std::chrono::milliseconds budget);

  ImportStats stats() const;
  // Payload bytes and the copies made of them: the kernel's, the client's and ours.
  TransferLedger ledger() const;
  const NatsConnection& connection() const noexcept;
  Publisher& publisher() noexcept;

 private:
  explicit Importer(std::unique_ptr<detail::ImporterState> state) noexcept;
  std::unique_ptr<detail::ImporterState> state_;
};

}  // namespace zc::nats
