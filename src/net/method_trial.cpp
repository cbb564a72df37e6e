#include "net/method_trial.hpp"

#include <time.h>

#include <algorithm>
#include <utility>

namespace zc::net {
namespace {

double seconds_of(clockid_t clock) noexcept {
  timespec now{};
  ::clock_gettime(clock, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

}  // namespace

double MethodTrial::thread_cpu_seconds() noexcept {
  return seconds_of(CLOCK_THREAD_CPUTIME_ID);
}
double MethodTrial::wall_seconds() noexcept {
  return seconds_of(CLOCK_MONOTONIC);
}

MethodTrial::MethodTrial(std::uint64_t epoch_bytes, std::uint64_t recheck_bytes)
    : MethodTrial(epoch_bytes, recheck_bytes, {&thread_cpu_seconds, &wall_seconds}) {}

MethodTrial::MethodTrial(std::uint64_t epoch_bytes, std::uint64_t recheck_bytes, Clocks clocks)
    : epoch_bytes_(epoch_bytes == 0 ? 1 : epoch_bytes),
      recheck_bytes_(recheck_bytes),
      recheck_after_(recheck_bytes),
      clocks_(std::move(clocks)) {}

bool MethodTrial::start(std::span<const SendMethod> methods) {
  if (phase_ == Phase::running) return false;
  if (phase_ == Phase::decided && since_decision_ < recheck_after_) return false;
  if (methods.size() < 2 || methods.size() > kMaxMethods) return false;
  method_count_ = methods.size();
  for (std::size_t i = 0; i < method_count_; ++i) {
    tallies_[i] = Tally{};
    tallies_[i].method = methods[i];
  }
  return begin();
}

bool MethodTrial::begin() {
  // A recheck warms up with the method chosen last time: it is the one in use.
  if (phase_ == Phase::decided) {
    for (std::size_t i = 1; i < method_count_; ++i) {
      if (tallies_[i].method == chosen_) std::swap(tallies_[0], tallies_[i]);
    }
  }
  for (std::size_t i = 0; i < method_count_; ++i) {
    tallies_[i].restart();  // the last finished trial's figures stay until this one finishes
    racing_[i] = i;
  }
  racing_count_ = method_count_;
  narrowed_ = false;
  phase_ = Phase::running;
  epoch_ = -1;
  epoch_sent_ = 0;
  ++trials_;
  epoch_start_cpu_ = clocks_.cpu();
  epoch_start_wall_ = clocks_.wall();
  return true;
}

std::size_t MethodTrial::slot_of(int epoch) const noexcept {
  if (epoch < 0) return 0;
  const auto n = racing_count_;
  const auto round = static_cast<std::size_t>(epoch) / n;
  const auto position = static_cast<std::size_t>(epoch) % n;
  return racing_[round % 2 == 0 ? position : n - 1 - position];
}

std::optional<SendMethod> MethodTrial::method() const noexcept {
  switch (phase_) {
    case Phase::running:
      return tallies_[slot_of(epoch_)].method;
    case Phase::decided:
      return chosen_;
    case Phase::idle:
      break;
  }
  return std::nullopt;
}

bool MethodTrial::sent(std::uint64_t bytes) {
  if (phase_ == Phase::idle) return false;
  if (phase_ == Phase::decided) since_decision_ += bytes;
  const std::uint64_t before = epoch_sent_;
  epoch_sent_ += bytes;
  if (epoch_sent_ < epoch_bytes_) {
    if (before < settle_bytes() && epoch_sent_ >= settle_bytes()) {
      // Settled: the epoch is measured from here.
      measured_from_ = epoch_sent_;
      measure_start_cpu_ = clocks_.cpu();
      measure_start_wall_ = clocks_.wall();
    }
    return false;
  }
  const double cpu = clocks_.cpu();
  const double wall = clocks_.wall();
  if (epoch_ >= 0) {
    // An epoch ended by the send that would have settled it is measured whole.
    const bool settled = settle_bytes() > 0 && before >= settle_bytes();
    Tally& tally = tallies_[phase_ == Phase::decided ? chosen_slot_ : slot_of(epoch_)];
    tally.cpu_s += cpu - (settled ? measure_start_cpu_ : epoch_start_cpu_);
    tally.wall_s += wall - (settled ? measure_start_wall_ : epoch_start_wall_);
    tally.bytes += epoch_sent_ - (settled ? measured_from_ : 0);
  }
  epoch_start_cpu_ = cpu;
  epoch_start_wall_ = wall;
  epoch_sent_ = 0;
  ++epoch_;

  if (phase_ == Phase::decided) {
    if (since_decision_ >= recheck_after_) {
      begin();
      return false;
    }
    if (epoch_ < kWatchEpochs) return false;
    // A look at the choice: its figures now are what it did alone in this window.
    tallies_[chosen_slot_].close();
    const std::size_t best = pick();
    const bool clearly_faster =
        tallies_[best].figures.gb_per_s >= kSwitchMargin * tallies_[chosen_slot_].figures.gb_per_s;
    // One slow window is not enough: the rates drift in phases about that long.
    const bool doubted = best != chosen_slot_ && clearly_faster;
    looks_against_ = doubted ? looks_against_ + 1 : 0;
    if (looks_against_ < kLooksToSwitch) {
      choose(chosen_slot_);  // the next window, without a settling epoch
      epoch_ = 0;
      return false;
    }
    looks_against_ = 0;
    choose(best);
    return true;
  }

  const int per_method = narrowed_ ? kEpochsPerMethod - kFirstRoundEpochs : kFirstRoundEpochs;
  if (epoch_ < static_cast<int>(racing_count_) * per_method) return false;
  if (!narrowed_) {
    narrow();
    if (racing_count_ > 1) return false;
  }
  for (std::size_t i = 0; i < method_count_; ++i) tallies_[i].close();
  decide();
  return true;
}

void MethodTrial::narrow() {
  for (std::size_t i = 0; i < method_count_; ++i) tallies_[i].close();
  const double fastest = fastest_rate();
  racing_count_ = 0;
  for (std::size_t i = 0; i < method_count_; ++i) {
    if (tallies_[i].figures.gb_per_s >= fastest * kDropBelow) racing_[racing_count_++] = i;
  }
  narrowed_ = true;
  epoch_ = 0;
}

void MethodTrial::Tally::restart() noexcept {
  cpu_s = wall_s = 0;
  bytes = 0;
}

void MethodTrial::Tally::close() noexcept {
  const double gb = static_cast<double>(bytes) * 1e-9;
  figures = {.cpu_s_per_gb = gb > 0 ? cpu_s / gb : 0, .gb_per_s = wall_s > 0 ? gb / wall_s : 0};
}

double MethodTrial::fastest_rate() const noexcept {
  double fastest = 0;
  for (std::size_t i = 0; i < method_count_; ++i) {
    fastest = std::max(fastest, tallies_[i].figures.gb_per_s);
  }
  return fastest;
}

std::size_t MethodTrial::pick() const noexcept {
  const double fastest = fastest_rate();
  // A tie in CPU goes to copying, which gives the buffer back at once.
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < method_count_; ++i) {
    const MethodFigures& f = tallies_[i].figures;
    if (f.gb_per_s < fastest * (1 - kSpeedTolerance)) continue;
    const bool cheaper = !best || f.cpu_s_per_gb < tallies_[*best].figures.cpu_s_per_gb ||
                         (f.cpu_s_per_gb == tallies_[*best].figures.cpu_s_per_gb &&
                          tallies_[i].method == SendMethod::copy);
    if (cheaper) best = i;
  }
  return best.value_or(0);
}

void MethodTrial::choose(std::size_t slot) noexcept {
  chosen_slot_ = slot;
  chosen_ = tallies_[slot].method;
  tallies_[slot].restart();
  epoch_ = -1;  // a settling epoch, then the counted ones
}

void MethodTrial::decide() {
  const std::size_t best = pick();
  const bool agrees = trials_ > 1 && tallies_[best].method == last_decision_;
  recheck_after_ =
      agrees ? std::min(recheck_after_ * 2, recheck_bytes_ * kMaxBackoff) : recheck_bytes_;
  last_decision_ = tallies_[best].method;
  phase_ = Phase::decided;
  since_decision_ = 0;
  looks_against_ = 0;
  choose(best);
}

MethodFigures MethodTrial::figures(SendMethod method) const noexcept {
  for (std::size_t i = 0; i < method_count_; ++i) {
    if (tallies_[i].method == method) return tallies_[i].figures;
  }
  return {};
}

}  // namespace zc::net
