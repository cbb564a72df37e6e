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

#include <string>

#include "zcopy/core/capabilities.hpp"

namespace zc::test {

// True when ZCOPY_REQUIRE_ALL is set to a non-empty value other than "0".
bool require_all();

// Empty when available; otherwise "needs <name>: <reason>".
std::string missing_reason(Capability capability);

}  // namespace zc::test

#define ZC_REQUIRE_CAPABILITY(capability)                                                      \
  do {                                                                                         \
    const std::string zc_missing_reason_ = ::zc::test::missing_reason(capability);             \
    if (!zc_missing_reason_.empty()) {                                                         \
      if (::zc::test::require_all()) FAIL() << zc_missing_reason_ << " (ZCOPY_REQUIRE_ALL=1)"; \
      GTEST_SKIP() << zc_missing_reason_;                                                      \
    }                                                                                          \
  } while (false)
