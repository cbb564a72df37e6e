// tools/zcopy/channel_bench.hpp: `zcopy channel bench`, the channel measured side by side with a
// Unix socket, a pipe, a Boost.Interprocess message_queue and a no-channel ceiling: every method at
// every size, printed; with --nats the NATS bridge against plain NATS subscribers (the measuring is
// bench/channel/channel_bench.hpp).
#pragma once

#include <cstdint>
#include <vector>

#include "command.hpp"

namespace zc::cli {

struct ChannelBenchSettings {
  bool json = false;
  std::vector<std::uint64_t> sizes;  // message sizes; latency uses those <= 4 KiB
  double seconds = 1.0;              // measured time per method and size, after a warm-up
  bool sizes_given = false;
  // The NATS bridge against plain NATS subscribers instead (bench/channel/channel_bench_nats.hpp);
  // `quick`: one small size and few subscribers, enough to see that every figure comes out.
  bool nats = false;
  bool quick = false;
};

CommandResult run_channel_bench(const ChannelBenchSettings& settings);

}  // namespace zc::cli
