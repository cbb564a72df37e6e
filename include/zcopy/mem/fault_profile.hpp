// zcopy/mem/fault_profile.hpp: what the first touch of each page costs, and how many faults.
//
// The first write to a page of fresh memory takes a page fault: the kernel finds a frame, zeroes
// it and maps it, microseconds during which the writer stalls. Pinned memory (Region::pin) paid
// that up front, so touching it later costs nanoseconds, every time. profile_first_touch() shows
// the difference on a real buffer:
//
//   auto fresh = zc::Region::create_anonymous(64 * zc::kMiB);
//   zc::Result<zc::FaultProfile> p = zc::profile_first_touch(fresh->bytes());
//   std::printf("%" PRIu64 " minor faults, p99 %" PRIu64 " ns\n", p->minor_faults, p->p99_ns);
//
// Each page is touched once, by writing a zero to the first byte of the span in that page: the
// profile overwrites those bytes, so run it on memory whose contents do not matter yet. A write,
// not a read, because reading fresh memory maps the shared zero page and the first write would
// then fault a second time. Fault counts come from getrusage(RUSAGE_THREAD) around the loop: this
// thread's faults only (the loop itself allocates nothing, so they are the touches' faults).
// Latencies come from the CPU's timestamp counter on x86-64, calibrated against CLOCK_MONOTONIC
// (from CLOCK_MONOTONIC itself elsewhere); a profile lasts at least 200 us for that calibration.
//
// Thread safety: profile_first_touch() may run on several threads at once on different spans. No
// other thread may access the span meanwhile: the writes would race with its accesses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "zcopy/core/error.hpp"

namespace zc {

struct FaultProfile {
  std::size_t pages = 0;           // base pages touched
  std::size_t page_size = 0;       // bytes per base page
  std::uint64_t minor_faults = 0;  // faults served without I/O (a frame zeroed or already cached)
  std::uint64_t major_faults = 0;  // faults that waited for I/O (swap, a file)
  // Per-page touch latency, nanoseconds: each includes a counter read and the loop's own cost,
  // the floor for a page that needs no fault.
  std::uint64_t p50_ns = 0;
  std::uint64_t p90_ns = 0;
  std::uint64_t p99_ns = 0;
  std::uint64_t p999_ns = 0;
  std::uint64_t max_ns = 0;
  std::uint64_t total_ns = 0;  // the whole loop
};

// Writes to every page `memory` overlaps, once each, timing each write. Fails with
// Errc::invalid_argument for an empty span.
Result<FaultProfile> profile_first_touch(std::span<std::byte> memory);

}  // namespace zc
