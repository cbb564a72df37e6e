// src/nats/fetch_failure.cpp: sorting failed fetches into retry, make again, or stop.
#include "fetch_failure.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace zc::nats::detail {
namespace {

bool contains(std::string_view text, std::string_view needle) {
  return std::ranges::search(text, needle, [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         }).begin() != text.end();
}

}  // namespace

FetchFailure classify_fetch_failure(natsStatus status, std::string_view text) {
  switch (status) {
    // The connection is away or on its way back; the caller has checked that it is not closed
    // for good.
    case NATS_TIMEOUT:
    case NATS_NO_SERVER:
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_STALE_CONNECTION:
    case NATS_NOT_YET_CONNECTED:
    case NATS_IO_ERROR:
    case NATS_INSUFFICIENT_BUFFER:  // the reconnect buffer is full until the server is back
    case NATS_SLOW_CONSUMER:
    case NATS_MISSED_HEARTBEAT:
    // JetStream is not up yet (a restart, a meta leader election): nobody answers the request.
    case NATS_NO_RESPONDERS:
      return FetchFailure::transient;
    case NATS_NOT_FOUND:
      return contains(text, "consumer") ? FetchFailure::consumer_gone : FetchFailure::permanent;
    case NATS_ERR:
      break;
    default:
      return FetchFailure::permanent;
  }
  // JetStream's status messages (409 and friends) come as NATS_ERR with their description.
  if (contains(text, "consumer deleted") || contains(text, "consumer not found")) {
    return FetchFailure::consumer_gone;
  }
  constexpr std::array<std::string_view, 7> kPassing = {
      "leadership change", "exceeded maxwaiting", "jetstream not",          "no responders",
      "timeout",           "not ready",           "temporarily unavailable"};
  for (std::string_view passing : kPassing) {
    if (contains(text, passing)) return FetchFailure::transient;
  }
  return FetchFailure::permanent;
}

bool is_permission_violation(std::string_view text) {
  return contains(text, "permissions violation") || contains(text, "authorization violation");
}

}  // namespace zc::nats::detail
