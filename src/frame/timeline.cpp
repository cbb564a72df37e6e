// Timeline points waited on with a shared futex and bridged to an eventfd.
//
// SYNC POINT (lost wake-ups). The signaller does: its state change (a seq_cst CAS on a slot word),
// point++, epoch++, then loads `sleepers`. The waiter does: sleepers++, loads epoch, checks
// ready() (seq_cst loads), then futex-waits while epoch is unchanged. All of these are seq_cst, so
// in their single total order either the signaller's load of `sleepers` comes after the waiter's
// increment (it sees the sleeper and wakes it; the futex compares epoch atomically with queueing,
// so a wake between the check and the sleep is not lost), or it comes before, and then the
// waiter's ready() check comes after the state change and sees it.
#include "frame/timeline.hpp"

#include "zcopy/core/wake.hpp"

namespace zc::detail {

void timeline_signal(SharedTimeline& timeline, int eventfd) noexcept {
  timeline.point.fetch_add(1, std::memory_order_seq_cst);
  timeline.epoch.fetch_add(1, std::memory_order_seq_cst);
  if (timeline.sleepers.load(std::memory_order_seq_cst) != 0) futex_wake(&timeline.epoch);
  // Relaxed: the flag only says whether anyone wants eventfd wake-ups; the eventfd itself
  // carries no data, the waker re-checks the shared words after reading it.
  if (eventfd >= 0 && timeline.polled.load(std::memory_order_relaxed) != 0) {
    signal_eventfd(eventfd);
  }
}

bool timeline_wait(SharedTimeline& timeline, const std::function<bool()>& ready,
                   std::chrono::steady_clock::time_point deadline) {
  timeline.sleepers.fetch_add(1, std::memory_order_seq_cst);
  bool done = false;
  for (;;) {
    const std::uint32_t seen = timeline.epoch.load(std::memory_order_seq_cst);
    done = ready();
    if (done || std::chrono::steady_clock::now() >= deadline) break;
    futex_wait(&timeline.epoch, seen, deadline);
  }
  timeline.sleepers.fetch_sub(1, std::memory_order_seq_cst);
  return done;
}

}  // namespace zc::detail
