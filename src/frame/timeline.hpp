// Signalling and waiting on a SharedTimeline: a futex for sleepers, an eventfd for epoll loops.
#pragma once

#include <time.h>

#include <chrono>
#include <cstdint>
#include <functional>

#include "frame/swap_chain_shared.hpp"

namespace zc::detail {

// How often a side that waits for its peer looks at the peer's pidfd.
inline constexpr auto kPeerCheckSlice = std::chrono::milliseconds(10);

// CLOCK_MONOTONIC in nanoseconds: the same clock in every process, for present times.
inline std::uint64_t monotonic_ns() noexcept {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000U +
         static_cast<std::uint64_t>(now.tv_nsec);
}

// Advances the timeline by one point after the caller's state change, and wakes whoever waits.
// `eventfd` is written only when the waiting side asked for it (SharedTimeline::polled).
void timeline_signal(SharedTimeline& timeline, int eventfd) noexcept;

// Sleeps on the timeline until `ready()` holds or `deadline` passes; returns ready()'s last
// answer. `ready` must read the shared words it depends on with seq_cst loads (see the .cpp).
bool timeline_wait(SharedTimeline& timeline, const std::function<bool()>& ready,
                   std::chrono::steady_clock::time_point deadline);

}  // namespace zc::detail
