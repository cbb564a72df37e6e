// bench/xdp/napi_thread.hpp: a veth end's receive work (its NAPI) moved from the sender's CPU to
// a kernel thread of its own, pinned where the receiver runs.
//
// veth_xmit schedules the peer's NAPI on the CPU that transmits, so by default the receive path
// (the XDP program, the copy into the UMEM, the socket's stack) is charged to the sender and runs
// no faster than it sends. With /sys/class/net/DEV/threaded set, each NAPI instance of DEV polls
// in a kthread "napi/DEV-ID"; pinned to the receiver's CPU, that CPU then carries the whole
// receive side, and a sender on the other CPU can offer more than a receiver takes. veth has a
// NAPI only while an XDP program is attached (or GRO is on): the thread appears with the program.
//
//   set_threaded_napi(link, VethPair::a, true);
//   const auto before = napi_threads("zcx0");
//   ... attach an XDP program on zcx0 ...
//   pin_new_napi_threads("zcx0", before, 0);
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "bench/support/veth_pair.hpp"
#include "zcopy/core/error.hpp"

namespace zc::bench {

// Writes /sys/class/net/DEV/threaded for `side`'s end, through a sysfs of that namespace (a child
// mounts one in a mount namespace of its own).
Result<void> set_threaded_napi(const VethPair& link, VethPair::Side side, bool on);

// The kthreads polling `interface`'s NAPI instances ("napi/IFACE-ID"), in every namespace: names
// repeat across namespaces, so a caller tells its own apart by what is new since it attached.
std::vector<pid_t> napi_threads(const std::string& interface);

// Pins the threads of napi_threads(interface) that are not in `before` to `cpu`, under
// SCHED_FIFO at `fifo_priority` when it is above 0 (make_realtime()); their pids.
Result<std::vector<pid_t>> pin_new_napi_threads(const std::string& interface,
                                                const std::vector<pid_t>& before, int cpu,
                                                int fifo_priority = 0);

// Puts `pid` (0: the calling process, and what it forks from now on) under SCHED_FIFO at
// `priority`. Nice values would not do where other work runs in sessions of its own: with
// scheduler autogroups (or cgroups) CFS shares a CPU between groups first, whatever the nice
// value inside one.
Result<void> make_realtime(pid_t pid, int priority);

}  // namespace zc::bench
