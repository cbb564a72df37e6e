// src/nats/fetch_failure.hpp: what a failed JetStream fetch means for a durable import: wait and
// fetch again (the server is away, restarting, or electing a leader), make the consumer again
// (it was deleted), or stop (what the user configured cannot work: permissions, a bad config).
#pragma once

#include <nats/nats.h>

#include <string_view>

namespace zc::nats::detail {

enum class FetchFailure {
  transient,      // retry with a backoff: nothing is lost, the server redelivers what is unacked
  consumer_gone,  // the durable consumer was deleted: make it again, or stop if that fails
  permanent,      // retrying cannot help
};

// `status` from natsSubscription_Fetch (or js_PullSubscribe), `text` the client's error text
// for it (JetStream's status descriptions: "Consumer Deleted", "Leadership Change", ...).
FetchFailure classify_fetch_failure(natsStatus status, std::string_view text);

// True when the server's asynchronous error `text` says an operation was not permitted: a
// subscription or publish the account may not make, which no retry changes.
bool is_permission_violation(std::string_view text);

}  // namespace zc::nats::detail
