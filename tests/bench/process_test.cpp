// bench/support/process.hpp: programs started with their argv, forked functions, waiting with a
// timeout, signals to a whole group, and captured output.
#include "bench/support/process.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include "bench/support/data.hpp"
#include "bench/support/process_counters.hpp"

namespace zc::bench {
namespace {

using namespace std::chrono_literals;

TEST(Process, CapturesOutputAndTheExitCodeOfAProgram) {
  const RunResult shell = run({"sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(shell.exit_code, 3);
  EXPECT_EQ(shell.output, "out\nerr\n");
  EXPECT_EQ(run({"printf", "%s|", "a b", "'c'"}).output, "a b|'c'|")
      << "arguments reach the program as given, never through a shell";
}

TEST(Process, AProgramThatCannotRunIsAnErrorNamingIt) {
  auto child = Process::spawn({"zcopy-no-such-program-anywhere"});
  ASSERT_FALSE(child);
  EXPECT_EQ(child.error().sys_errno(), ENOENT);
  EXPECT_NE(child.error().message().find("zcopy-no-such-program-anywhere"), std::string::npos)
      << child.error().message();
  EXPECT_EQ(run({"zcopy-no-such-program-anywhere"}).exit_code, 127);
}

TEST(Process, WaitForGivesUpOnARunningChildAndStopReapsIt) {
  auto child = Process::spawn({"sleep", "600"});
  ASSERT_TRUE(child) << child.error().message();
  EXPECT_FALSE(child->wait_for(50ms).has_value());
  EXPECT_TRUE(child->running());
  EXPECT_EQ(child->stop(SIGTERM).code, 128 + SIGTERM);
  EXPECT_FALSE(child->running());
}

TEST(Process, ReadsStdoutLineByLineAndKeepsStderrInAFile) {
  TempDir dir;
  auto child = Process::spawn({"sh", "-c", "echo first; echo oops >&2; echo second"},
                              {.out = Output::pipe, .err = Output::file, .file = dir / "err"});
  ASSERT_TRUE(child) << child.error().message();
  EXPECT_EQ(child->read_line(10s), "first");
  EXPECT_EQ(child->read_line(10s), "second");
  EXPECT_EQ(child->read_line(10s), std::nullopt) << "end of output";
  EXPECT_TRUE(child->wait().ok());
  EXPECT_EQ(read_text(dir / "err"), "oops\n");
}

TEST(Process, KillingAGroupTakesItsChildrenDownToo) {
  TempDir dir;
  // The shell starts a grandchild and reports its pid; both must die with the group.
  auto child = Process::spawn({"sh", "-c", "sleep 600 & echo $!; wait"},
                              {.out = Output::pipe, .own_group = true});
  ASSERT_TRUE(child) << child.error().message();
  const auto line = child->read_line(10s);
  ASSERT_TRUE(line);
  const pid_t grandchild = std::stoi(*line);
  child->kill();
  // The grandchild is reparented and reaped by init; until then it is a zombie at most.
  bool gone = false;
  for (int i = 0; i < 1000 && !gone; ++i) {
    const std::string state = read_text("/proc/" + std::to_string(grandchild) + "/stat");
    gone = state.empty() || state.find(") Z") != std::string::npos;
    if (!gone) ::usleep(10'000);
  }
  EXPECT_TRUE(gone) << "the grandchild survived its group's SIGKILL";
}

// A forked "test" starts `sleep 600` and is SIGKILLed; whether the sleep outlives it.
bool grandchild_outlives_its_killed_parent(bool die_with_parent) {
  TempDir dir;
  const std::string pid_file = dir / "pid";
  auto parent = Process::fork([&] {
    auto sleeper = Process::spawn({"sleep", "600"}, {.die_with_parent = die_with_parent});
    if (!sleeper) return 1;
    {
      std::ofstream out(pid_file + ".tmp");
      out << sleeper->pid();
    }
    std::rename((pid_file + ".tmp").c_str(), pid_file.c_str());
    ::pause();
    return 0;
  });
  EXPECT_TRUE(parent) << parent.error().message();
  if (!parent) return false;
  std::string text;
  for (int i = 0; i < 1000 && text.empty(); ++i) {
    text = read_text(pid_file);
    if (text.empty()) ::usleep(10'000);
  }
  EXPECT_FALSE(text.empty()) << "the forked parent never started its child";
  if (text.empty()) return false;
  const pid_t grandchild = std::stoi(text);
  parent->kill();
  auto alive = [&] {
    const std::string state = read_text("/proc/" + std::to_string(grandchild) + "/stat");
    return !state.empty() && state.find(") Z") == std::string::npos;
  };
  // Death comes within milliseconds; without the option, half a second shows the survivor.
  const int polls = die_with_parent ? 1000 : 50;
  for (int i = 0; i < polls && alive(); ++i) ::usleep(10'000);
  const bool survived = alive();
  if (survived) ::kill(grandchild, SIGKILL);
  return survived;
}

TEST(Process, AServerStartedToDieWithItsParentEndsWhenATestCrashes) {
  EXPECT_FALSE(grandchild_outlives_its_killed_parent(true))
      << "a server outlived the process that started it";
  EXPECT_TRUE(grandchild_outlives_its_killed_parent(false))
      << "without the option a child outlives its parent: the check above proves nothing";
}

TEST(Process, AForkedFunctionReportsItsValueAndAThrowIs98) {
  auto ok = Process::fork([] { return 0; });
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok->expect_success("zero"));
  auto failed = Process::fork([] { return 7; });
  ASSERT_TRUE(failed);
  const auto verdict = failed->expect_success("seven");
  ASSERT_FALSE(verdict);
  EXPECT_NE(verdict.error().message().find("exited with 7"), std::string::npos)
      << verdict.error().message();
  EXPECT_EQ(run_in_child([]() -> int { throw 1; }), 98);
}

TEST(Process, ReapsAChildAndReportsItsCpuTime) {
  auto child = Process::spawn({"sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done"});
  ASSERT_TRUE(child);
  const Exit done = child->wait();
  EXPECT_TRUE(done.ok());
  EXPECT_GT(done.cpu.total(), 0) << "wait4's rusage of the child";
}

// A benchmark reads a peer's /proc/PID/io after it ended: the child must stay unreaped until then.
TEST(Process, AwaitExitLeavesAnEndedChildsCountersReadable) {
  auto child =
      Process::spawn({"dd", "if=/dev/zero", "of=/dev/null", "bs=1M", "count=4", "status=none"});
  ASSERT_TRUE(child);
  child->await_exit();
  const ProcessCounters counters = read_counters(child->pid());
  EXPECT_TRUE(counters.io_readable);
  EXPECT_GE(counters.read_bytes, 4u << 20);
  EXPECT_GE(counters.write_bytes, 4u << 20);
  EXPECT_GE(counters.write_calls, 4u);
  EXPECT_TRUE(child->running()) << "not reaped yet";
  EXPECT_TRUE(child->wait().ok());
  EXPECT_FALSE(child->running());
}

TEST(Process, CountersOfTwoReadingsSubtract) {
  ProcessCounters later{
      .minor_faults = 10, .read_bytes = 100, .rss_bytes = 4096, .io_readable = true};
  ProcessCounters earlier{
      .minor_faults = 4, .read_bytes = 150, .rss_bytes = 8192, .io_readable = true};
  const ProcessCounters used = later - earlier;
  EXPECT_EQ(used.minor_faults, 6u);
  EXPECT_EQ(used.read_bytes, 0u) << "a counter never goes below zero";
  EXPECT_EQ(used.rss_bytes, 4096u) << "resident memory is the later reading's";
  EXPECT_TRUE(used.io_readable);
}

// A server's loops run on threads of their own: their context switches count, not only those of
// the main thread (/proc/PID/status reports the main thread's alone).
TEST(Process, CountsTheContextSwitchesOfEveryThread) {
  constexpr int kSleeps = 50;
  std::promise<void> start;
  std::promise<void> slept;
  std::promise<void> read;
  std::thread sleeper([&] {
    start.get_future().wait();  // the first reading is taken
    for (int i = 0; i < kSleeps; ++i) std::this_thread::sleep_for(1ms);  // one switch each
    slept.set_value();
    read.get_future().wait();  // alive while its counts are read
  });
  const ProcessCounters before = read_own_counters();
  start.set_value();
  slept.get_future().wait();
  const ProcessCounters used = read_own_counters() - before;
  read.set_value();
  sleeper.join();
  EXPECT_GE(used.voluntary_switches, static_cast<std::uint64_t>(kSleeps));
}

TEST(Process, FindsProgramsInThePathOnly) {
  EXPECT_TRUE(have_program("sh"));
  EXPECT_TRUE(have_program("/bin/sh"));
  EXPECT_FALSE(have_program("zcopy-no-such-program-anywhere"));
  EXPECT_FALSE(have_program(""));
}

}  // namespace
}  // namespace zc::bench
