// The one list of `zcopy bench` parts, in the order they run: the in-memory modules first, the
// network and file-system ones after. The expected seconds (quick, full) are those of runs on
// the reference machine (2 cores, loaded), for the progress bar's estimate.
#include "bench/suite/part.hpp"

namespace zc::bench {

const std::vector<Part>& parts() {
  static const std::vector<Part> list{
      {"mem", "page-fault jitter: pinned vs fresh memory", 3, 15, &run_mem_part},
      {"ring", "SpscRing vs Boost.Lockfree", 8, 15, &run_ring_part},
      {"frame", "swap-chain flip vs a memcpy compositor", 3, 25, &run_frame_part},
      {"channel", "channel vs iceoryx, unix socket, pipe, Boost.Interprocess", 14, 60,
       &run_channel_part},
      {"net", "zero-copy send per method vs iperf3", 8, 200, &run_net_part},
      {"xdp", "AF_XDP receive vs AF_PACKET and recvmmsg on veth", 3, 25, &run_xdp_part},
      {"serve", "zcopy serve vs nginx: curl and wrk", 15, 200, &run_serve_part},
      {"get", "zcopy get vs curl and aria2c", 5, 110, &run_get_part},
      {"get-sources", "zcopy get from three shaped sources vs aria2c", 18, 120,
       &run_get_sources_part},
      {"mount", "FUSE mirror vs the native file system, fio", 12, 60, &run_mount_part},
      {"secure", "TLS records opened in place vs openssl speed", 4, 20, &run_secure_part},
  };
  return list;
}

}  // namespace zc::bench
