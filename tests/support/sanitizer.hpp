// tests/support/sanitizer.hpp: scale stress tests down when a sanitizer slows everything 5-20x.
#pragma once

#include <cstddef>

namespace zc::test {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

#if defined(__SANITIZE_THREAD__)
inline constexpr bool kThreadSanitized = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr bool kThreadSanitized = true;
#else
inline constexpr bool kThreadSanitized = false;
#endif
#else
inline constexpr bool kThreadSanitized = false;
#endif

// `full` iterations in an optimised build, a tenth of them under a sanitizer.
constexpr std::size_t scaled(std::size_t full) {
  return kSanitized ? full / 10 : full;
}

}  // namespace zc::test
