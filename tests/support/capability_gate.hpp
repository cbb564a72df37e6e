// tests/support/capability_gate.hpp: skip a test for a missing kernel facility, loudly.
//
//   TEST(ZeroCopySend, ...) {
//     ZC_REQUIRE_CAPABILITY(zc::Capability::msg_zerocopy);
//     ...
//   }
//
// Without the capability the test is skipped with the probe's one-line reason. Under
// ZCOPY_REQUIRE_ALL=1 (set by CI) a missing capability fails the test instead, so a machine that
// silently lacks a feature can never turn the suite green.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "bench/support/process.hpp"
#include "support/shell_command.hpp"
#include "zcopy/core/capabilities.hpp"

namespace zc::test {

// True when ZCOPY_REQUIRE_ALL is set to a non-empty value other than "0".
bool require_all();

// Empty when available; otherwise "needs <name>: <reason>".
std::string missing_reason(Capability capability);

}  // namespace zc::test

// Skips the test with `reason`, or fails it under ZCOPY_REQUIRE_ALL=1: the one way a test may
// skip, so that no skip can turn CI green.
#define ZC_SKIP_BECAUSE(reason)                                                           \
  do {                                                                                    \
    const std::string zc_skip_reason_ = (reason);                                         \
    if (::zc::test::require_all()) FAIL() << zc_skip_reason_ << " (ZCOPY_REQUIRE_ALL=1)"; \
    GTEST_SKIP() << zc_skip_reason_;                                                      \
  } while (false)

#define ZC_REQUIRE_CAPABILITY(capability)                                          \
  do {                                                                             \
    const std::string zc_missing_reason_ = ::zc::test::missing_reason(capability); \
    if (!zc_missing_reason_.empty()) ZC_SKIP_BECAUSE(zc_missing_reason_);          \
  } while (false)

// The tests of the command-line tool need the binary ctest hands them in ZCOPY_TOOL.
#define ZC_REQUIRE_TOOL()                                                                   \
  do {                                                                                      \
    if (::zc::test::zcopy_tool().empty())                                                   \
      ZC_SKIP_BECAUSE("ZCOPY_TOOL is not set: no zcopy binary to run (run through ctest)"); \
  } while (false)

// Root, for tests that switch users, pin beyond RLIMIT_MEMLOCK or read physical addresses.
#define ZC_REQUIRE_ROOT(why)                                                   \
  do {                                                                         \
    if (::geteuid() != 0) ZC_SKIP_BECAUSE(std::string("needs root ") + (why)); \
  } while (false)

// Skips (or, under ZCOPY_REQUIRE_ALL=1, fails) a test whose peer program is not installed.
#define ZC_REQUIRE_PROGRAM(name)                                                                  \
  do {                                                                                            \
    if (!::zc::bench::have_program(name))                                                         \
      ZC_SKIP_BECAUSE(std::string("needs ") + (name) + " (scripts/install-deps.sh installs it)"); \
  } while (false)
