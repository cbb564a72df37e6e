// The trial among send methods, driven by CPU and wall clocks the test controls.
#include "net/method_trial.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>

namespace zc::net {
namespace {

constexpr std::uint64_t kEpoch = 1000;
constexpr std::uint64_t kRecheck = 100'000;
constexpr SendMethod kZeroCopy = SendMethod::msg_zerocopy;
constexpr SendMethod kCopy = SendMethod::copy;
constexpr SendMethod kUring = SendMethod::uring_zc;
constexpr std::array kTwo{kZeroCopy, kCopy};
constexpr std::array kThree{kUring, kZeroCopy, kCopy};
// A warm-up epoch, then the measured ones.
constexpr int kTwoEpochs = 1 + 2 * MethodTrial::kEpochsPerMethod;
constexpr int kThreeEpochs = 1 + 3 * MethodTrial::kEpochsPerMethod;
// A settling epoch and a window of epochs that look at the choice.
constexpr int kWatch = 1 + MethodTrial::kWatchEpochs;
// Epochs from a choice until looks in a row can change it.
constexpr int kWatchToSwitch =
    kWatch + (MethodTrial::kLooksToSwitch - 1) * MethodTrial::kWatchEpochs;

// Seconds per byte a method costs the sending thread, and takes on the wall clock.
struct Cost {
  double cpu = 0;
  double wall = 0;
};
Cost cpu_bound(double seconds_per_byte) {
  return {seconds_per_byte, seconds_per_byte};
}

// Plays sends through `trial`, advancing the fake clocks by what the method it asked for costs.
struct Harness {
  double cpu = 0;
  double wall = 0;
  std::map<SendMethod, Cost> costs;
  MethodTrial trial{kEpoch, kRecheck, {[this] { return cpu; }, [this] { return wall; }}};

  double switch_wall = 0;  // seconds a change of method stalls the send that makes it
  SendMethod last = kZeroCopy;

  SendMethod next() const { return trial.method().value_or(kZeroCopy); }
  // Returns how many trials the sends ended.
  int run(std::uint64_t bytes, int sends) {
    int decisions = 0;
    for (int i = 0; i < sends; ++i) {
      const Cost c = costs[next()];
      cpu += static_cast<double>(bytes) * c.cpu;
      wall += static_cast<double>(bytes) * c.wall;
      if (next() != last) wall += switch_wall;
      last = next();
      if (trial.sent(bytes)) ++decisions;
    }
    return decisions;
  }
  // Sends epochs until the trial decides; returns how many (at most 100).
  int finish() {
    int epochs = 0;
    while (!trial.decided() && epochs < 100) {
      run(kEpoch, 1);
      ++epochs;
    }
    return epochs;
  }
  // Runs a trial among `methods` to its decision; returns the method chosen, or nullopt when
  // the trial did not decide.
  std::optional<SendMethod> decide(std::span<const SendMethod> methods) {
    trial.start(methods);
    finish();
    if (!trial.decided()) return std::nullopt;
    return trial.chosen();
  }
  // Letters of the methods the next `epochs` epochs use.
  std::string order(int epochs) {
    std::string letters;
    for (int e = 0; e < epochs; ++e) {
      letters += next() == kCopy ? 'c' : next() == kUring ? 'u' : 'z';
      run(kEpoch, 1);
    }
    return letters;
  }
};

TEST(MethodTrial, NoMethodUntilATrialStarts) {
  Harness h;
  h.costs = {{kZeroCopy, cpu_bound(1e-9)}, {kCopy, cpu_bound(1e-9)}};
  EXPECT_FALSE(h.trial.method());
  EXPECT_EQ(h.run(500, 100), 0);
  EXPECT_FALSE(h.trial.running());
  EXPECT_FALSE(h.trial.decided());
  EXPECT_EQ(h.trial.trials(), 0u);
  EXPECT_FALSE(h.trial.start(std::span(kTwo).first(1))) << "one method is no trial";
}

TEST(MethodTrial, TwoMethodsTakeTurnsABBAAndTheFasterIsKept) {
  Harness h;
  h.costs = {{kZeroCopy, cpu_bound(1.2e-9)}, {kCopy, cpu_bound(1e-9)}};
  ASSERT_TRUE(h.trial.start(kTwo));
  EXPECT_FALSE(h.trial.start(kTwo)) << "one trial at a time";
  // A warm-up with the first method, then A B B A A B B A ..., then copying on its own.
  EXPECT_EQ(h.order(kTwoEpochs + kWatch + 1),
            "z"
            "zcczzccz"
            "ccc"
            "c");
  EXPECT_TRUE(h.trial.decided());
  EXPECT_EQ(h.trial.chosen(), kCopy);
  EXPECT_EQ(h.trial.method(), kCopy);
  EXPECT_NEAR(h.trial.figures(kZeroCopy).cpu_s_per_gb, 1.2, 1e-9);
  EXPECT_NEAR(h.trial.figures(kZeroCopy).gb_per_s, 1 / 1.2, 1e-9);
  EXPECT_NEAR(h.trial.figures(kCopy).cpu_s_per_gb, 1.0, 1e-9);
  EXPECT_NEAR(h.trial.figures(kCopy).gb_per_s, 1.0, 1e-9);
  EXPECT_EQ(h.trial.figures(kUring).gb_per_s, 0.0) << "not in the trial";

  Harness other;
  other.costs = {{kZeroCopy, cpu_bound(0.3e-9)}, {kCopy, cpu_bound(0.7e-9)}};
  other.trial.start(kTwo);
  EXPECT_EQ(other.run(kEpoch, kTwoEpochs + kWatch), 1);
  EXPECT_EQ(other.trial.chosen(), kZeroCopy);
}

TEST(MethodTrial, ThreeMethodsTakeTurnsABCCBA) {
  Harness h;
  h.costs = {
      {kUring, cpu_bound(0.3e-9)}, {kZeroCopy, cpu_bound(0.35e-9)}, {kCopy, cpu_bound(0.38e-9)}};
  ASSERT_TRUE(h.trial.start(kThree));
  EXPECT_EQ(h.order(kThreeEpochs + kWatch + 1),
            "u"
            "uzcczu"
            "uzcczu"
            "uuu"
            "u");
  EXPECT_EQ(h.trial.chosen(), kUring);
  for (SendMethod m : kThree) EXPECT_GT(h.trial.figures(m).gb_per_s, 0.0);
}

TEST(MethodTrial, AClearLoserDropsOutAfterTheFirstRound) {
  // Copying at 64 KiB on loopback: 0.4 of the others' rate. After two epochs of each method it
  // sends no more, and the other two take their remaining two epochs each.
  Harness h;
  h.costs = {
      {kUring, cpu_bound(0.3e-9)}, {kZeroCopy, cpu_bound(0.35e-9)}, {kCopy, cpu_bound(0.8e-9)}};
  ASSERT_TRUE(h.trial.start(kThree));
  EXPECT_EQ(h.order(1 + 6 + 4 + kWatch + 1),
            "u"
            "uzcczu"
            "uzzu"
            "uuu"
            "u");
  EXPECT_TRUE(h.trial.decided());
  EXPECT_EQ(h.trial.chosen(), kUring);
  EXPECT_NEAR(h.trial.figures(kCopy).gb_per_s, 1.25, 1e-9) << "from its two epochs";

  // With all but one dropped, the survivor goes straight to its confirmation.
  Harness two;
  two.costs = {{kZeroCopy, cpu_bound(2e-9)}, {kCopy, cpu_bound(1e-9)}};
  two.trial.start(kTwo);
  EXPECT_EQ(two.order(1 + 4 + kWatch + 1),
            "z"
            "zccz"
            "ccc"
            "c");
  EXPECT_TRUE(two.trial.decided());
}

TEST(MethodTrial, TheFasterWinsOverTheCheaper) {
  // SEND_ZC at 256 KiB on loopback: no dearer in CPU than MSG_ZEROCOPY, but its thread waits
  // for each request's result, and it sends 20 % slower.
  Harness h;
  h.costs = {{kUring, {.cpu = 0.38e-9, .wall = 0.50e-9}},
             {kZeroCopy, cpu_bound(0.40e-9)},
             {kCopy, cpu_bound(0.46e-9)}};
  EXPECT_EQ(h.decide(kThree), kZeroCopy);
}

TEST(MethodTrial, AmongTheAboutEquallyFastTheCheaperWins) {
  // A link that limits every method alike: the one that costs the sender least is kept, also
  // when another is slightly faster (by less than the tolerance).
  Harness h;
  h.costs = {{kUring, {.cpu = 0.2e-9, .wall = 1.0e-9}},
             {kZeroCopy, {.cpu = 0.3e-9, .wall = 0.97e-9}},
             {kCopy, {.cpu = 0.6e-9, .wall = 1.0e-9}}};
  EXPECT_EQ(h.decide(kThree), kUring);

  // And a tie in CPU goes to copying, which gives the buffer back at once.
  Harness tie;
  tie.costs = {{kZeroCopy, cpu_bound(0.5e-9)}, {kCopy, cpu_bound(0.5e-9)}};
  EXPECT_EQ(tie.decide(kTwo), kCopy);
}

TEST(MethodTrial, AChoiceThatDoesWorseAloneGivesWayToTheNext) {
  // Copying at 64 KiB on loopback: fast while it takes turns, slow once it sends alone.
  Harness h;
  h.costs = {
      {kUring, cpu_bound(0.3e-9)}, {kZeroCopy, cpu_bound(0.32e-9)}, {kCopy, cpu_bound(0.25e-9)}};
  h.trial.start(kThree);
  h.run(kEpoch, kThreeEpochs);
  ASSERT_TRUE(h.trial.decided());
  EXPECT_EQ(h.next(), kCopy);
  h.costs[kCopy] = cpu_bound(0.8e-9);
  EXPECT_EQ(h.run(kEpoch, kWatchToSwitch - 1), 0) << "not before the last look";
  EXPECT_EQ(h.run(kEpoch, 1), 1) << "looks in a row at copying alone";
  EXPECT_EQ(h.next(), kUring) << "the runner-up takes over";
  EXPECT_NEAR(h.trial.figures(kCopy).gb_per_s, 1.25, 1e-9) << "copying's figures alone";
  EXPECT_EQ(h.run(kEpoch, 3 * kWatch), 0);
  EXPECT_EQ(h.trial.chosen(), kUring);
  EXPECT_NEAR(h.trial.figures(kUring).cpu_s_per_gb, 0.3, 1e-9);
}

TEST(MethodTrial, TheChoiceIsWatchedAndTheFasterAloneStays) {
  Harness h;
  h.costs = {{kZeroCopy, cpu_bound(0.4e-9)}, {kCopy, cpu_bound(0.5e-9)}};
  ASSERT_EQ(h.decide(kTwo), kZeroCopy);
  EXPECT_EQ(h.run(kEpoch, kWatch + 2 * MethodTrial::kWatchEpochs), 0)
      << "as fast as in the trial: kept";
  // A drift within the margin changes nothing: zero-copy alone at 0.6 (1.67 GB/s) against
  // copying's 2.0 in the trial.
  h.costs = {{kZeroCopy, cpu_bound(0.6e-9)}, {kCopy, cpu_bound(0.5e-9)}};
  EXPECT_EQ(h.run(kEpoch, 4 * MethodTrial::kWatchEpochs), 0);
  // Both slow down for real: zero-copy alone (0.8, 1.25 GB/s) gives way to copying's 2.0;
  // copying alone (1.2, 0.83 GB/s) then gives way to zero-copy's 1.25, which stays.
  h.costs = {{kZeroCopy, cpu_bound(0.8e-9)}, {kCopy, cpu_bound(1.2e-9)}};
  EXPECT_EQ(h.run(kEpoch, MethodTrial::kLooksToSwitch * MethodTrial::kWatchEpochs), 1);
  EXPECT_EQ(h.next(), kCopy);
  EXPECT_EQ(h.run(kEpoch, kWatchToSwitch), 1);
  EXPECT_EQ(h.next(), kZeroCopy);
  EXPECT_EQ(h.run(kEpoch, 4 * kWatch), 0);
  EXPECT_EQ(h.trial.chosen(), kZeroCopy);
  EXPECT_TRUE(h.trial.decided());
  EXPECT_EQ(h.trial.trials(), 1u);
}

TEST(MethodTrial, OneSlowLookChangesNothing) {
  // MSG_ZEROCOPY at 256 KiB on loopback: a window at half its rate, then back, again and again.
  Harness h;
  h.costs = {{kZeroCopy, cpu_bound(0.4e-9)}, {kCopy, cpu_bound(0.5e-9)}};
  ASSERT_EQ(h.decide(kTwo), kZeroCopy);
  EXPECT_EQ(h.run(kEpoch, kWatch), 0);
  for (int dip = 0; dip < 5; ++dip) {
    h.costs[kZeroCopy] = cpu_bound(0.8e-9);
    EXPECT_EQ(h.run(kEpoch, MethodTrial::kWatchEpochs), 0);
    h.costs[kZeroCopy] = cpu_bound(0.4e-9);
    EXPECT_EQ(h.run(kEpoch, MethodTrial::kWatchEpochs), 0);
  }
  EXPECT_EQ(h.trial.chosen(), kZeroCopy);
  EXPECT_NEAR(h.trial.figures(kZeroCopy).gb_per_s, 2.5, 1e-9) << "the last look";
}

TEST(MethodTrial, AveragesEpochsThatDisagree) {
  // Copying costs 0.2 in some epochs and 0.9 in others (as on loopback at 16-64 KiB): its mean,
  // 0.55, loses to zero-copy's steady 0.45 although one epoch alone would have said otherwise.
  Harness h;
  h.trial.start(kTwo);
  int copy_epochs = 0;
  while (!h.trial.decided()) {
    const bool copying = h.next() == kCopy;
    const double cost = copying ? (copy_epochs % 2 == 0 ? 0.2e-9 : 0.9e-9) : 0.45e-9;
    h.costs = {{h.next(), cpu_bound(cost)}};
    h.run(kEpoch, 1);
    if (copying) ++copy_epochs;
  }
  EXPECT_EQ(copy_epochs, MethodTrial::kEpochsPerMethod);
  EXPECT_EQ(h.trial.chosen(), kZeroCopy);
  EXPECT_NEAR(h.trial.figures(kCopy).cpu_s_per_gb, 0.55, 1e-9);
}

TEST(MethodTrial, EpochsCountBytesNotSends) {
  Harness h;
  h.costs = {{kZeroCopy, cpu_bound(1e-9)}, {kCopy, cpu_bound(1e-9)}};
  h.trial.start(kTwo);
  h.run(kEpoch, 1);  // the warm-up
  h.run(kEpoch / 4, 3);
  EXPECT_EQ(h.next(), kZeroCopy) << "three quarters of an epoch";
  h.run(kEpoch / 4, 1);
  EXPECT_EQ(h.next(), kCopy);
}

TEST(MethodTrial, TheChangeOfMethodIsNotCounted) {
  // Each change stalls the first send for as long as a whole epoch of zero-copy takes (draining
  // the other backend's notifications): counted, it would make both methods look half as fast
  // and hand the choice to whichever changed less. Sends of a quarter epoch: the first of each
  // epoch settles it.
  Harness h;
  h.costs = {{kZeroCopy, cpu_bound(0.3e-9)}, {kCopy, cpu_bound(0.35e-9)}};
  h.switch_wall = static_cast<double>(kEpoch) * 0.3e-9;
  h.trial.start(kTwo);
  while (!h.trial.decided()) h.run(kEpoch / 4, 1);
  EXPECT_EQ(h.trial.chosen(), kZeroCopy);
  EXPECT_NEAR(h.trial.figures(kZeroCopy).gb_per_s, 1 / 0.3, 1e-6);
  EXPECT_NEAR(h.trial.figures(kCopy).gb_per_s, 1 / 0.35, 1e-6);
}

TEST(MethodTrial, TheWarmUpEpochIsNotCounted) {
  Harness h;
  h.costs = {{kZeroCopy, cpu_bound(100e-9)}, {kCopy, cpu_bound(1e-9)}};
  h.trial.start(kTwo);
  h.run(kEpoch, 1);  // a new connection's first epoch, very dear
  h.costs = {{kZeroCopy, cpu_bound(0.5e-9)}, {kCopy, cpu_bound(1e-9)}};
  h.finish();
  ASSERT_TRUE(h.trial.decided());
  EXPECT_EQ(h.trial.chosen(), kZeroCopy);
  EXPECT_NEAR(h.trial.figures(kZeroCopy).cpu_s_per_gb, 0.5, 1e-9);
}

TEST(MethodTrial, MeasuresAgainAfterTheRecheckBytes) {
  Harness h;
  h.costs = {{kZeroCopy, cpu_bound(2e-9)}, {kCopy, cpu_bound(1e-9)}};
  ASSERT_EQ(h.decide(kTwo), kCopy);
  EXPECT_FALSE(h.trial.start(kTwo)) << "too soon after a decision";
  h.run(kEpoch, static_cast<int>(kRecheck / kEpoch) - 1);
  EXPECT_TRUE(h.trial.decided());
  h.run(kEpoch, 1);
  EXPECT_TRUE(h.trial.running()) << "a recheck begins by itself";
  EXPECT_EQ(h.trial.trials(), 2u);
  EXPECT_EQ(h.next(), kCopy) << "its warm-up keeps the method in use";
  EXPECT_NEAR(h.trial.figures(kCopy).cpu_s_per_gb, 1.0, 1e-9) << "the last figures stay";
  // This time zero-copy is cheaper, and the trial follows.
  h.costs = {{kZeroCopy, cpu_bound(0.5e-9)}, {kCopy, cpu_bound(1e-9)}};
  h.finish();
  EXPECT_TRUE(h.trial.decided());
  EXPECT_EQ(h.trial.chosen(), kZeroCopy);
}

TEST(MethodTrial, RechecksThatAgreeComeLessOften) {
  Harness h;
  h.costs = {{kZeroCopy, cpu_bound(0.5e-9)}, {kCopy, cpu_bound(1e-9)}};
  h.trial.start(kTwo);
  h.finish();
  EXPECT_EQ(h.trial.next_recheck_bytes(), kRecheck);
  std::uint64_t expected = kRecheck;
  for (int trial = 2; trial <= 7; ++trial) {
    // Send until the recheck begins, then through it; zero-copy stays cheaper.
    h.run(kEpoch, static_cast<int>(h.trial.next_recheck_bytes() / kEpoch));
    ASSERT_TRUE(h.trial.running());
    h.finish();
    ASSERT_TRUE(h.trial.decided());
    expected = std::min(expected * 2, kRecheck * 16);
    EXPECT_EQ(h.trial.next_recheck_bytes(), expected) << "after trial " << trial;
  }
  EXPECT_EQ(h.trial.next_recheck_bytes(), kRecheck * 16) << "capped";
  // A recheck that changes the choice starts the interval over.
  h.run(kEpoch, static_cast<int>(h.trial.next_recheck_bytes() / kEpoch));
  h.costs = {{kZeroCopy, cpu_bound(2e-9)}, {kCopy, cpu_bound(1e-9)}};
  h.finish();
  EXPECT_EQ(h.trial.chosen(), kCopy);
  EXPECT_EQ(h.trial.next_recheck_bytes(), kRecheck);
}

TEST(MethodTrial, ThreadCpuClockAdvancesWithWork) {
  const double before = MethodTrial::thread_cpu_seconds();
  volatile std::uint64_t sink = 0;
  for (std::uint64_t i = 0; i < 20'000'000; ++i) sink = sink + i;
  EXPECT_GT(MethodTrial::thread_cpu_seconds(), before);
  const double wall = MethodTrial::wall_seconds();
  EXPECT_GT(MethodTrial::wall_seconds(), wall - 1e-9);
}

}  // namespace
}  // namespace zc::net
