// bench/channel/channel_stream_run.hpp: the loops of `zcopy channel pub` (an input into a named
// channel) and `zcopy channel sub` (a channel onto an output). The publisher reads straight into
// loaned chunks and subscribers write straight from the shared, read-only chunks: the bytes are
// copied by the kernel at the two ends and never in between. The publisher sends what each read
// brings (a live stream goes out as it is written) and services the channel while its input is
// quiet, so subscribers may join at any time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "zcopy/core/error.hpp"

namespace zc::bench {

struct ChannelStreamOptions {
  std::string name;
  std::uint64_t chunk_size = 64 * 1024;
  std::size_t chunks = 64;
  std::size_t depth = 32;
  bool drop_oldest = false;
  std::size_t subscribers = 1;
  std::chrono::milliseconds wait{30'000};     // for subscribers (pub) or the publisher (sub)
  std::chrono::milliseconds timeout{30'000};  // blocking publish / receive
};

// Publishes `input` until its end, then closes the channel; a line of figures on stderr.
// A channel that cannot be created for a bad value is Errc::usage: the values are the user's.
Result<void> run_channel_pub(const ChannelStreamOptions& options, int input);

// Writes each message to `output` until the publisher closes the channel (a publisher that died
// mid-stream is an error); the dropped messages, if any, on stderr.
Result<void> run_channel_sub(const ChannelStreamOptions& options, int output);

}  // namespace zc::bench
