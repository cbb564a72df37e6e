#include "net/method_trial.hpp"

#include <time.h>

#include <algorithm>
#include <utility>

namespace zc::net {

double MethodTrial::thread_cpu_seconds() noexcept {
  timespec now{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

MethodTrial::MethodTrial(std::uint64_t epoch_bytes, std::uint64_t recheck_bytes, CpuClock clock)
    : epoch_bytes_(epoch_bytes == 0 ? 1 : epoch_bytes),
      recheck_bytes_(recheck_bytes),
      recheck_after_(recheck_bytes),
      clock_(std::move(clock)) {}

bool MethodTrial::start() {
  if (phase_ == Phase::running) return false;
  if (phase_ == Phase::decided && since_decision_ < recheck_after_) return false;
  phase_ = Phase::running;
  epoch_ = -1;
  epoch_sent_ = 0;
  cpu_[0] = cpu_[1] = 0;
  bytes_[0] = bytes_[1] = 0;
  ++trials_;
  epoch_start_cpu_ = clock_();
  return true;
}

bool MethodTrial::copy_next() const noexcept {
  return phase_ == Phase::running ? epoch_copies(epoch_) : copy_chosen_;
}

bool MethodTrial::sent(std::uint64_t bytes) {
  if (phase_ == Phase::decided) {
    since_decision_ += bytes;
    if (since_decision_ >= recheck_after_) start();
    return false;
  }
  if (phase_ != Phase::running) return false;
  epoch_sent_ += bytes;
  if (epoch_sent_ < epoch_bytes_) return false;
  const double now = clock_();
  if (epoch_ >= 0) {
    const int slot = epoch_copies(epoch_) ? 1 : 0;
    cpu_[slot] += now - epoch_start_cpu_;
    bytes_[slot] += epoch_sent_;
  }
  epoch_start_cpu_ = now;
  epoch_sent_ = 0;
  if (++epoch_ < 2 * kEpochsPerMethod) return false;

  zero_copy_cost_ = cpu_[0] / (static_cast<double>(bytes_[0]) * 1e-9);
  copy_cost_ = cpu_[1] / (static_cast<double>(bytes_[1]) * 1e-9);
  // A tie goes to copying, which gives the buffer back at once.
  const bool copy = copy_cost_ <= zero_copy_cost_;
  if (trials_ > 1 && copy == copy_chosen_) {
    recheck_after_ = std::min(recheck_after_ * 2, recheck_bytes_ * kMaxBackoff);
  } else {
    recheck_after_ = recheck_bytes_;
  }
  copy_chosen_ = copy;
  phase_ = Phase::decided;
  since_decision_ = 0;
  return true;
}

}  // namespace zc::net
