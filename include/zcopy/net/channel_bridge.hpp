// zcopy/net/channel_bridge.hpp: shared memory to the wire without a copy.
//
// A sample received from a channel is a read-only view of a chunk in the publisher's pool. Sent
// with the zero-copy sender, its pages go to the socket as they are, and the chunk goes back to
// the pool only when the send's completion arrives, so the publisher cannot reuse it while the
// kernel still reads it:
//
//   auto sample = subscriber.receive(1s);
//   zc::net::send_sample(sender, std::move(*sample));   // the chunk returns on completion
#pragma once

#include <cstdint>

#include "zcopy/channel/subscriber.hpp"
#include "zcopy/core/error.hpp"
#include "zcopy/net/zerocopy_sender.hpp"

namespace zc::net {

// Sends the sample's bytes and keeps the sample (and its chunk) until the send completes.
// Returns the send's ticket.
Result<std::uint64_t> send_sample(ZeroCopySender& sender, Sample sample);

}  // namespace zc::net
