// bench/nats/channel_bridge_run.hpp: the loops of `zcopy channel export` (a local channel onto a
// NATS subject) and `zcopy channel import` (a NATS subject into a local channel, each message off
// the network once and then read in place by every local subscriber).
//
// Both print a line of statistics every second on stderr (one JSON object on stdout instead with
// `json`) and a last one when they end: the channel closed (export), `stop` set or `messages`
// reached (import). Security options go to the NATS client as they are and are never printed;
// URLs are shown without their user information.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "zcopy/core/error.hpp"
#include "zcopy/core/units.hpp"

namespace zc::bench {

// What `zcopy channel export` and `zcopy channel import` were told.
struct ChannelBridgeOptions {
  std::string name;     // export: the channel
  std::string subject;  // export: where to; import: what from
  std::string channel;  // import: the channel
  std::string urls;
  std::string user;
  std::string password;
  std::string token;
  std::string creds;
  std::string tls_ca;
  std::string on_full = "block";
  std::string jetstream;  // export: the stream
  int replicas = 1;
  std::string durable;  // import: the consumer
  double ack_wait_s = 30;
  bool with_sequence = false;
  std::uint64_t chunk_size = kMiB;
  std::size_t chunks = 64;
  std::size_t depth = 64;
  std::size_t subscribers = 0;
  double wait_s = 30;
  double timeout_s = 1;
  std::uint64_t messages = 0;  // import: stop after this many (0: never)
  bool json = false;
};

// Both end with Errc::usage for what the user typed that the library refused.
Result<void> run_channel_export(const ChannelBridgeOptions& o, const std::atomic<bool>& stop);
Result<void> run_channel_import(const ChannelBridgeOptions& o, const std::atomic<bool>& stop);

}  // namespace zc::bench
