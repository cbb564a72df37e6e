// The one list of `zcopy bench` parts, in the order they run: the in-memory modules first, the
// network and file-system ones after.
#include "bench/suite/part.hpp"

namespace zc::bench {

const std::vector<Part>& parts() {
  static const std::vector<Part> list{
      {"mem", "page-fault jitter: pinned vs fresh memory", 8, 20, &run_mem_part},
      {"ring", "SpscRing vs Boost.Lockfree", 8, 20, &run_ring_part},
      {"channel", "channel vs unix socket, pipe, Boost.Interprocess", 25, 90, &run_channel_part},
      {"net", "zero-copy send per method vs iperf3", 15, 70, &run_net_part},
      {"serve", "zcopy serve vs nginx: curl and wrk", 35, 300, &run_serve_part},
      {"get", "zcopy get vs curl and aria2c", 15, 150, &run_get_part},
      {"mount", "FUSE mirror vs the native file system, fio", 25, 150, &run_mount_part},
  };
  return list;
}

}  // namespace zc::bench
