// Copying against zero-copy, measured on one socket.
//
// When notifications say the kernel copied zero-copy sends (local delivery does), which of the
// two costs the sender less is a question for measurement: on loopback here MSG_ZEROCOPY cost the
// sending thread 0.30 s/GB at 16-64 KiB against 0.55-0.70 for copying, but 0.36 against 0.22 at
// 1 MiB (docs/PERFORMANCE.md). So an automatic sender runs a trial: it alternates zero-copy and
// copying in epochs of `epoch_bytes`, six epochs each, charges every epoch the CPU time the
// sending thread spent in it, keeps the cheaper method, and measures again after `recheck_bytes`
// more have gone out (routes and loads change). A recheck that confirms the choice doubles the
// interval to the next (up to 16 times `recheck_bytes`), since each trial sends half its bytes
// the dearer way; one that changes it starts over from `recheck_bytes`.
#pragma once

#include <cstdint>
#include <functional>

namespace zc::net {

class MethodTrial {
 public:
  using CpuClock = std::function<double()>;  // seconds of CPU, monotonic
  static constexpr int kEpochsPerMethod = 6;

  // CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID).
  static double thread_cpu_seconds() noexcept;

  MethodTrial(std::uint64_t epoch_bytes, std::uint64_t recheck_bytes,
              CpuClock clock = &MethodTrial::thread_cpu_seconds);

  // Begins a trial, unless one is running or the last decision is younger than recheck_bytes.
  // True when it began.
  bool start();
  // Whether the next send should copy: by epoch during a trial, by the decision after one.
  bool copy_next() const noexcept;
  // Accounts a send of `bytes` made the way copy_next() said. True when it ended a trial.
  bool sent(std::uint64_t bytes);

  bool running() const noexcept { return phase_ == Phase::running; }
  bool decided() const noexcept { return phase_ == Phase::decided; }
  bool copy_chosen() const noexcept { return copy_chosen_; }
  // Bytes after the last decision before the next trial.
  std::uint64_t next_recheck_bytes() const noexcept { return recheck_after_; }
  std::uint32_t trials() const noexcept { return trials_; }
  // CPU seconds per GB each method cost in the last finished trial (0 before one finished).
  double copy_cpu_s_per_gb() const noexcept { return copy_cost_; }
  double zero_copy_cpu_s_per_gb() const noexcept { return zero_copy_cost_; }

 private:
  enum class Phase : std::uint8_t { idle, running, decided };
  // Epochs follow zero-copy, copy, copy, zero-copy, zero-copy, copy, ... (ABBA): a cost that
  // drifts over the trial (TCP's buffers still growing on a new connection, a warming cache)
  // then weighs on both methods alike instead of on whichever went first. Epoch -1 is a warm-up
  // that is not counted, and sends zero-copy as the sender did before.
  static bool epoch_copies(int epoch) noexcept { return epoch >= 0 && (epoch + 1) / 2 % 2 == 1; }

  static constexpr std::uint64_t kMaxBackoff = 16;

  std::uint64_t epoch_bytes_;
  std::uint64_t recheck_bytes_;
  std::uint64_t recheck_after_;  // recheck_bytes_ times the current backoff
  CpuClock clock_;
  Phase phase_ = Phase::idle;
  int epoch_ = -1;
  std::uint64_t epoch_sent_ = 0;
  double epoch_start_cpu_ = 0;
  double cpu_[2] = {0, 0};  // [0] zero-copy, [1] copy
  std::uint64_t bytes_[2] = {0, 0};
  bool copy_chosen_ = false;
  std::uint64_t since_decision_ = 0;
  std::uint32_t trials_ = 0;
  double copy_cost_ = 0;
  double zero_copy_cost_ = 0;
};

}  // namespace zc::net
