#include "bench/channel/channel_stream_run.hpp"

#include <cstdio>

#include "bench/support/write_all.hpp"
#include "zcopy/channel/publisher.hpp"
#include "zcopy/channel/subscriber.hpp"
#include "zcopy/core/live_input.hpp"

namespace zc::bench {

Result<void> run_channel_pub(const ChannelStreamOptions& o, int input_fd) {
  ChannelOptions options;
  options.chunk_size = static_cast<std::size_t>(o.chunk_size);
  options.chunk_count = o.chunks;
  options.queue_depth = o.depth;
  options.backpressure = o.drop_oldest ? Backpressure::drop_oldest : Backpressure::block;
  options.timeout = o.timeout;
  auto publisher = Publisher::create(o.name, options);
  if (!publisher) return as_usage(publisher.error());
  if (o.subscribers > 0) {
    if (auto joined = publisher->wait_for_subscribers(o.subscribers, o.wait); !joined) {
      return std::unexpected(joined.error());
    }
  }
  // Never blocked in read() while the input is quiet: a subscriber that joins then is admitted
  // at once, and what each read brings is published as it comes. A chunk is taken only once
  // there is input, so no loan() waits for a free chunk while there is nothing to send.
  LiveInput input(input_fd);
  std::uint64_t bytes = 0;
  for (;;) {
    if (auto ready = input.wait(publisher->fd(), [&] { publisher->service(); }); !ready) {
      return std::unexpected(ready.error());
    }
    auto loan = publisher->loan();
    if (!loan) return std::unexpected(loan.error());
    auto n = input.fill(loan->bytes());
    if (!n) return std::unexpected(n.error());
    if (*n == 0) break;
    auto sent = publisher->publish(std::move(*loan), *n);
    if (!sent) return std::unexpected(sent.error());
    bytes += *n;
  }
  publisher->close();
  const PublisherStats stats = publisher->stats();
  std::fprintf(stderr, "zcopy channel pub: %llu bytes in %llu messages, %llu dropped\n",
               static_cast<unsigned long long>(bytes),
               static_cast<unsigned long long>(stats.published),
               static_cast<unsigned long long>(stats.dropped));
  return {};
}

Result<void> run_channel_sub(const ChannelStreamOptions& o, int output) {
  auto subscriber = Subscriber::connect(o.name, o.wait);
  if (!subscriber) return std::unexpected(subscriber.error());
  for (;;) {
    auto sample = subscriber->receive(o.timeout);
    if (!sample) {
      const Error& error = sample.error();
      // The end of stream is success; a publisher that died mid-stream is not.
      if (error.code() == Errc::closed && error.detail() == "publisher closed") break;
      return std::unexpected(error);
    }
    if (auto written = write_all(output, sample->bytes()); !written) return written;
  }
  if (subscriber->dropped() > 0) {
    std::fprintf(stderr, "zcopy channel sub: %llu messages were dropped\n",
                 static_cast<unsigned long long>(subscriber->dropped()));
  }
  return {};
}

}  // namespace zc::bench
