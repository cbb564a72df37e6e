// Which way of sending pays on this socket, measured rather than assumed.
//
// When notifications say the kernel copied zero-copy sends (local delivery does), whether
// zero-copy still pays is a question for measurement: on loopback MSG_ZEROCOPY cost the sending
// thread less than copying at mid sizes and more at 1 MiB, and SEND_ZC from registered buffers
// was the fastest at one size and the slowest at another ("Why `auto` measures" in
// docs/PERFORMANCE.md has the figures). So an automatic sender runs a trial among the methods it
// has (copying, MSG_ZEROCOPY, SEND_ZC when the caller registered buffers): it sends in epochs of
// `epoch_bytes`, four epochs per method, times each epoch (but its first half) by the wall clock
// and by the CPU time the sending thread spent in it, and keeps the fastest method, or among
// methods within kSpeedTolerance of the fastest the one that cost the least CPU (on a link that
// limits every method alike, the cheapest). A method slower than kDropBelow of the fastest after
// two epochs each sends no more in the trial: a clear loser costs the trial most (on loopback
// copying at 64 KiB and zero-copy at 1 MiB each send at a fraction of the best rate:
// docs/PERFORMANCE.md).
//
// The choice is then watched: every kWatchEpochs epochs (after one to settle) its figures are
// replaced by what it just did alone, and when the rule then prefers another method that is
// kSwitchMargin faster in kLooksToSwitch looks in a row, the sender goes over to that one and
// watches it in turn. Copying at 16-64 KiB on loopback flips between a slow and a fast rate in
// phases (docs/PERFORMANCE.md), so a trial can catch it in either. It measures
// every method again after `recheck_bytes` more have gone out (routes and loads change). A
// recheck that confirms the choice doubles the interval to the next (up to 16 times
// `recheck_bytes`), since each trial sends most of its bytes the slower ways; one that changes it
// starts over from `recheck_bytes`.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>

#include "zcopy/net/zerocopy_sender.hpp"

namespace zc::net {

class MethodTrial {
 public:
  using SecondsClock = std::function<double()>;  // seconds, monotonic
  struct Clocks {
    SecondsClock cpu;
    SecondsClock wall;
  };
  static constexpr int kEpochsPerMethod = 4;
  static constexpr int kFirstRoundEpochs = 2;  // per method, before the slow ones drop out
  static constexpr double kDropBelow = 0.75;
  static constexpr int kWatchEpochs = 2;  // per look at the choice, after a settling epoch
  // A look changes the method only for one this much faster: every method's rate alone drifts
  // by more than the tolerance over tens of milliseconds (at 256 KiB on loopback:
  // docs/PERFORMANCE.md), and each change costs a settling epoch.
  static constexpr double kSwitchMargin = 1.25;
  // Looks in a row that must prefer another method before the sender changes: one window can
  // fall into a slow phase (at 256 KiB, auto that changed on one look kept MSG_ZEROCOPY yet sent
  // slower than it forced, changing a few times a run: docs/PERFORMANCE.md).
  static constexpr int kLooksToSwitch = 2;
  static constexpr std::size_t kMaxMethods = 3;
  // Methods this close to the fastest count as equally fast: run-to-run noise here is larger.
  static constexpr double kSpeedTolerance = 0.05;

  // CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID), and CLOCK_MONOTONIC.
  static double thread_cpu_seconds() noexcept;
  static double wall_seconds() noexcept;

  // Timed by thread_cpu_seconds() and wall_seconds(), or by the clocks given.
  MethodTrial(std::uint64_t epoch_bytes, std::uint64_t recheck_bytes);
  MethodTrial(std::uint64_t epoch_bytes, std::uint64_t recheck_bytes, Clocks clocks);

  // Begins a trial among `methods` (two or three, distinct; the first is the one in use now and
  // sends the uncounted warm-up epoch), unless one is running or the last decision is younger
  // than the recheck interval. True when it began. Rechecks reuse the last trial's methods.
  bool start(std::span<const SendMethod> methods);
  // The method for the next send: by epoch during a trial, the choice after one; nullopt before
  // the first trial.
  std::optional<SendMethod> method() const noexcept;
  // Accounts a send of `bytes` made the way method() said. True when it ended a trial or changed
  // the choice.
  bool sent(std::uint64_t bytes);

  bool started() const noexcept { return phase_ != Phase::idle; }
  bool running() const noexcept { return phase_ == Phase::running; }
  bool decided() const noexcept { return phase_ == Phase::decided; }
  SendMethod chosen() const noexcept { return chosen_; }
  // Bytes after the last decision before the next trial.
  std::uint64_t next_recheck_bytes() const noexcept { return recheck_after_; }
  std::uint32_t trials() const noexcept { return trials_; }
  // What `method` cost and how fast it sent in the last finished trial (zeros when it was not in
  // it, or before a trial finished).
  MethodFigures figures(SendMethod method) const noexcept;

 private:
  enum class Phase : std::uint8_t { idle, running, decided };
  struct Tally {
    SendMethod method = SendMethod::copy;
    double cpu_s = 0;
    double wall_s = 0;
    std::uint64_t bytes = 0;
    MethodFigures figures;
    void restart() noexcept;  // sums back to zero; figures kept
    void close() noexcept;    // figures from the sums
  };
  static constexpr std::uint64_t kMaxBackoff = 16;

  // Epochs run A B C C B A A B C ... (A B B A with two methods): a cost that drifts over the
  // trial (TCP's buffers still growing on a new connection, a warming cache) then weighs on
  // every method alike instead of on whichever went first. Epoch -1 is the warm-up.
  std::size_t slot_of(int epoch) const noexcept;
  // After the first round: drops the methods well behind the fastest, and starts the second.
  void narrow();
  bool begin();
  // The highest rate among the methods' figures.
  double fastest_rate() const noexcept;
  // The slot of the fastest method, or the cheapest of those about as fast.
  std::size_t pick() const noexcept;
  // Sends with `slot` from now on, watching it from a settling epoch on.
  void choose(std::size_t slot) noexcept;
  // Ends the trial with the method pick() prefers.
  void decide();

  std::uint64_t epoch_bytes_;
  std::uint64_t recheck_bytes_;
  std::uint64_t recheck_after_;  // recheck_bytes_ times the current backoff
  Clocks clocks_;
  Phase phase_ = Phase::idle;
  std::array<Tally, kMaxMethods> tallies_{};
  std::size_t method_count_ = 0;
  std::array<std::size_t, kMaxMethods> racing_{};  // slots still sending in the trial
  std::size_t racing_count_ = 0;
  bool narrowed_ = false;  // in the second round
  int epoch_ = -1;
  // In a trial the first half of every epoch settles and is not counted: it pays for the change
  // of method (at 256 KiB on loopback MSG_ZEROCOPY measured after copying reached its rate alone
  // only once 16 MiB had settled it, not 4 MiB: docs/PERFORMANCE.md).
  std::uint64_t settle_bytes() const noexcept {
    return phase_ == Phase::running ? epoch_bytes_ / 2 : 0;
  }
  std::uint64_t epoch_sent_ = 0;
  double epoch_start_cpu_ = 0;
  double epoch_start_wall_ = 0;
  std::uint64_t measured_from_ = 0;
  double measure_start_cpu_ = 0;
  double measure_start_wall_ = 0;
  SendMethod chosen_ = SendMethod::copy;
  std::size_t chosen_slot_ = 0;
  SendMethod last_decision_ = SendMethod::copy;
  std::uint64_t since_decision_ = 0;
  int looks_against_ = 0;  // looks in a row that preferred another method
  std::uint32_t trials_ = 0;
};

}  // namespace zc::net
