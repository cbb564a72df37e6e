#include "zcopy/mem/fault_profile.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include "zcopy/core/syscall.hpp"

namespace zc {
namespace {

using WallClock = std::chrono::steady_clock;

// The tick counter is calibrated against the wall clock over at least this long, so that the two
// clock reads at either end weigh less than 0.1% on the conversion.
constexpr std::chrono::microseconds kCalibrationWindow{200};

struct FaultCounts {
  std::uint64_t minor;
  std::uint64_t major;
};

Result<FaultCounts> thread_faults() {
  rusage usage{};
  auto rc =
      sys_call("getrusage(RUSAGE_THREAD)", [&] { return ::getrusage(RUSAGE_THREAD, &usage); });
  if (!rc) return std::unexpected(std::move(rc.error()));
  return FaultCounts{static_cast<std::uint64_t>(usage.ru_minflt),
                     static_cast<std::uint64_t>(usage.ru_majflt)};
}

// A monotonic tick count read without a call: the TSC on x86-64 (constant-rate on every CPU this
// targets). Not steady_clock, because the sanitizers intercept clock_gettime and their bookkeeping
// for each interception takes page faults of its own, which would be counted as the touches'.
// Uninstrumented like touch_pages(), so that it can be inlined there.
__attribute__((no_sanitize("address", "thread"))) inline std::uint64_t read_ticks() noexcept {
#if defined(__x86_64__)
  return __rdtsc();
#else
  return static_cast<std::uint64_t>(WallClock::now().time_since_epoch().count());
#endif
}

// The timed loop: writes one byte in each of `pages` pages and records each write's latency in
// ticks. Not instrumented by the sanitizers: their checks would touch shadow memory and add its
// page faults to the ones being measured.
__attribute__((no_sanitize("address", "thread"))) void touch_pages(std::uintptr_t first_page,
                                                                   std::size_t pages,
                                                                   std::size_t page,
                                                                   std::uintptr_t begin,
                                                                   std::uint64_t* latencies) {
  std::uint64_t previous = read_ticks();
  for (std::size_t i = 0; i < pages; ++i) {
    const std::uintptr_t page_start = (first_page + i) * page;
    const std::uintptr_t target = page_start < begin ? begin : page_start;
    // volatile: the store must happen, and between the two counter reads. A fault on the store
    // is taken before the next read retires, so the sample includes the whole fault.
    *reinterpret_cast<volatile unsigned char*>(target) = 0;
    // One read per page: each sample spans from the previous read to this one.
    const std::uint64_t now = read_ticks();
    latencies[i] = now - previous;
    previous = now;
  }
}

// Nearest-rank percentile of sorted samples: the smallest sample at or above `fraction` of them.
std::uint64_t percentile(const std::vector<std::uint64_t>& sorted, double fraction) {
  const auto rank =
      static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

}  // namespace

Result<FaultProfile> profile_first_touch(std::span<std::byte> memory) {
  if (memory.empty())
    return fail(Errc::invalid_argument, "profile first touch", "the span is empty");

  FaultProfile profile;
  profile.page_size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t page = profile.page_size;
  const auto begin = reinterpret_cast<std::uintptr_t>(memory.data());
  const std::uintptr_t end = begin + memory.size();
  const std::uintptr_t first_page = begin / page;
  profile.pages = (end + page - 1) / page - first_page;

  // Allocated and zeroed (so faulted in) before the loop, so that the loop's only faults are
  // the touches.
  std::vector<std::uint64_t> latencies(profile.pages);
  auto before = thread_faults();
  if (!before) return std::unexpected(std::move(before.error()));

  const WallClock::time_point wall_start = WallClock::now();
  const std::uint64_t ticks_start = read_ticks();
  touch_pages(first_page, profile.pages, page, begin, latencies.data());
  const std::uint64_t ticks_loop_end = read_ticks();

  auto after = thread_faults();
  if (!after) return std::unexpected(std::move(after.error()));
  profile.minor_faults = after->minor - before->minor;
  profile.major_faults = after->major - before->major;

  // Ticks to nanoseconds, from the same interval measured on both clocks.
  WallClock::time_point wall_end = WallClock::now();
  while (wall_end - wall_start < kCalibrationWindow) wall_end = WallClock::now();
  const std::uint64_t ticks_end = read_ticks();
  const double wall_ns = static_cast<double>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(wall_end - wall_start).count());
  const double ns_per_tick =
      wall_ns / static_cast<double>(std::max<std::uint64_t>(ticks_end - ticks_start, 1));
  auto to_ns = [ns_per_tick](std::uint64_t ticks) {
    return static_cast<std::uint64_t>(std::llround(static_cast<double>(ticks) * ns_per_tick));
  };

  std::sort(latencies.begin(), latencies.end());
  profile.p50_ns = to_ns(percentile(latencies, 0.50));
  profile.p90_ns = to_ns(percentile(latencies, 0.90));
  profile.p99_ns = to_ns(percentile(latencies, 0.99));
  profile.p999_ns = to_ns(percentile(latencies, 0.999));
  profile.max_ns = to_ns(latencies.back());
  profile.total_ns = to_ns(ticks_loop_end - ticks_start);
  return profile;
}

}  // namespace zc
