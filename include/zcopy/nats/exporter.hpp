// zcopy/nats/exporter.hpp: a local channel's messages published on a NATS subject.
//
//   auto sub = zc::Subscriber::connect("prices", std::chrono::seconds(5));
//   auto nats = zc::nats::NatsConnection::connect({.urls = {"nats://hub:4222"}});
//   auto out = zc::nats::Exporter::create(std::move(*nats), std::move(*sub), {.subject =
//   "prices"}); while (*out->run_for(std::chrono::seconds(1))) print(out->stats());   // false:
//   channel ended
//
// Each message goes out with the headers of headers.hpp. Its chunk goes back to the channel as
// soon as the client has taken the bytes: libnats copies them twice (into its message, then into
// its write buffer) and the kernel once more on send, and the ledger says so. A message the
// server cannot take (larger than its max_payload, headers included) is refused and counted,
// never cut; one the client could not buffer while reconnecting is counted as unsent.
//
// Synchronization. One thread drives an Exporter.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "zcopy/channel/subscriber.hpp"
#include "zcopy/core/error.hpp"
#include "zcopy/core/transfer_ledger.hpp"
#include "zcopy/nats/nats_connection.hpp"

namespace zc::nats {

struct ExportOptions {
  std::string subject{};
  // JetStream: publish into this stream (created for the subject if it does not exist, with
  // `replicas` copies) and wait for the server's acknowledgements before reporting the end.
  std::string jetstream_stream{};
  int replicas = 1;
};

struct ExportStats {
  std::uint64_t messages = 0;      // published
  std::uint64_t bytes = 0;         // payload bytes published
  std::uint64_t refused = 0;       // larger than the server's max_payload
  std::uint64_t unsent = 0;        // the client could not take them (reconnect buffer full)
  std::uint64_t channel_lost = 0;  // gaps in the channel's own sequence (drop_oldest upstream)
  std::uint64_t not_stored = 0;    // JetStream: the stream did not acknowledge them
  std::uint64_t last_sequence = 0;
  NatsConnectionStats connection{};
};

namespace detail {
struct ExporterState;
}

class Exporter {
 public:
  // Errc::invalid_argument for an empty or wildcard subject.
  static Result<Exporter> create(NatsConnection connection, Subscriber subscriber,
                                 const ExportOptions& options);

  Exporter(Exporter&&) noexcept;
  Exporter& operator=(Exporter&&) noexcept;
  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;
  ~Exporter();

  // Publishes what the channel brings for about `budget`; false once the channel has ended
  // (its publisher closed) and everything was flushed to the server. Errc::closed when the
  // publisher died or the connection closed for good.
  Result<bool> run_for(std::chrono::milliseconds budget);

  ExportStats stats() const;
  // Payload bytes and the copies the client and the kernel made of them.
  TransferLedger ledger() const;
  const NatsConnection& connection() const noexcept;

 private:
  explicit Exporter(std::unique_ptr<detail::ExporterState> state) noexcept;
  std::unique_ptr<detail::ExporterState> state_;
};

// A subject to publish on: non-empty, no wildcard, no space, no empty token.
bool valid_publish_subject(std::string_view subject) noexcept;
// A subject to subscribe to: tokens separated by '.', '*' for one token, '>' for the rest.
bool valid_subscribe_subject(std::string_view subject) noexcept;

}  // namespace zc::nats
