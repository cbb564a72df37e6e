#include "bench/suite/copy_cost.hpp"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <limits>

namespace zc::bench {
namespace {

// An anonymous mapping, every page touched once so that no fault lands in a timed copy.
class Buffer {
 public:
  explicit Buffer(std::size_t size) : size_(size) {
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return;
    data_ = static_cast<std::byte*>(p);
    for (std::size_t i = 0; i < size; i += 4096) data_[i] = static_cast<std::byte>(i >> 12 | 1);
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() {
    if (data_ != nullptr) ::munmap(data_, size_);
  }
  std::byte* data() const noexcept { return data_; }
  bool ok() const noexcept { return data_ != nullptr; }

 private:
  std::byte* data_ = nullptr;
  std::size_t size_;
};

// The thread's CPU clock in nanoseconds: getrusage() may hold a short interval's figure back
// (it keeps user and system time monotonic), which would zero a millisecond of copying.
double thread_cpu_s() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// The compiler may not drop a copy whose result nobody reads: make the destination escape.
void keep(std::byte* p) {
  asm volatile("" : : "r"(p) : "memory");
}

double seconds_per_gb(double seconds, std::uint64_t bytes) {
  return bytes == 0 ? 0 : seconds / (static_cast<double>(bytes) / 1e9);
}

}  // namespace

CopyCost measure_copy_cost(const CopyCostConfig& c) {
  CopyCost cost;
  const auto region = static_cast<std::size_t>(c.region);
  Buffer from(region), to(region);
  if (!from.ok() || !to.ok()) return cost;
  cost.lower_s_per_gb = std::numeric_limits<double>::max();
  for (const std::uint64_t chunk64 : c.chunks) {
    const auto chunk = static_cast<std::size_t>(chunk64);
    CopyCostPoint point{.chunk = chunk64,
                        .warm_s_per_gb = std::numeric_limits<double>::max(),
                        .cold_s_per_gb = std::numeric_limits<double>::max()};
    for (unsigned pass = 0; pass < c.passes; ++pass) {
      // Warm: one chunk over and over, as much in all as a cold pass moves.
      double start = thread_cpu_s();
      for (std::size_t done = 0; done + chunk <= region; done += chunk) {
        std::memcpy(to.data(), from.data(), chunk);
        keep(to.data());
      }
      point.warm_s_per_gb =
          std::min(point.warm_s_per_gb, seconds_per_gb(thread_cpu_s() - start, region));
      // Cold: every chunk once, from one end of the region to the other.
      start = thread_cpu_s();
      for (std::size_t at = 0; at + chunk <= region; at += chunk) {
        std::memcpy(to.data() + at, from.data() + at, chunk);
        keep(to.data() + at);
      }
      point.cold_s_per_gb =
          std::min(point.cold_s_per_gb, seconds_per_gb(thread_cpu_s() - start, region));
    }
    // A transfer's copies move pages in bursts, never one hot 4 KiB over and over: the lower
    // bound is the warm cost of the larger chunks.
    if (chunk64 >= 64 * kKiB || c.chunks.size() == 1)
      cost.lower_s_per_gb = std::min(cost.lower_s_per_gb, point.warm_s_per_gb);
    cost.upper_s_per_gb = std::max(cost.upper_s_per_gb, point.cold_s_per_gb);
    cost.points.push_back(point);
  }
  constexpr int kCalls = 200'000;
  const double start = thread_cpu_s();
  for (int i = 0; i < kCalls; ++i) (void)::syscall(SYS_getppid);
  cost.syscall_s = (thread_cpu_s() - start) / kCalls;
  return cost;
}

std::vector<JsonRecord> records(const CopyCost& cost) {
  std::vector<JsonRecord> out;
  for (const CopyCostPoint& p : cost.points) {
    JsonRecord r = bench_record("copy-cost", "memcpy", p.chunk);
    r.add("warm_cpu_s_per_gb", p.warm_s_per_gb).add("cold_cpu_s_per_gb", p.cold_s_per_gb);
    out.push_back(r);
  }
  return out;
}

}  // namespace zc::bench
