// tests/support/child_process.hpp: run part of a test in a forked child and collect its verdict.
//
//   int status = zc::test::run_in_child([&] {
//     // Runs in the child. Return 0 for success, another value to signal a failure.
//     return region->bytes()[0] == std::byte{42} ? 0 : 1;
//   });
//   EXPECT_EQ(status, 0);
//
// The child never returns into GoogleTest: it _exit()s with the function's value, so gtest
// assertions must not be used inside it. A child killed by a signal yields 128 + signal number.
// The forking and reaping are bench/support/process.hpp's, which programs run as peers use too.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>

#include "bench/support/process.hpp"

namespace zc::test {

using bench::run_in_child;

// Forks a child that runs `body` and _exit()s with its value (98 if it throws), without waiting
// for it. -1 when fork fails.
inline pid_t spawn(const std::function<int()>& body) {
  return bench::fork_call(body);
}

// Reaps `pid`: its exit code, 128 + the signal that killed it, or std::nullopt when it is still
// running (no_hang) or cannot be waited for.
using bench::reap;

// Reaps `pid` like reap(), waiting at most `limit`: a child still running then is killed
// (SIGKILL) and reaped, and the answer is std::nullopt. For children that would hang when the
// code under test is broken.
std::optional<int> reap_within(pid_t pid, std::chrono::milliseconds limit);

// Drops `capability` (a CAP_* number) from the effective, permitted and inheritable sets of the
// calling process. For children that must behave like an unprivileged process. Returns false on
// failure.
bool drop_capability(int capability);

}  // namespace zc::test
