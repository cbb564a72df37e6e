// Asking for a cache line in the exclusive state before writing it (PREFETCHW). The publisher's
// stores to payloads and descriptor slots miss on lines a subscriber on another core last read;
// in order, each would wait for that core to give its copy up while the store buffer fills and
// the publisher stalls. Asked for early, the transfers overlap with each other and with work.
#pragma once

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace zc::detail {

// Whether this CPU has PREFETCHW (CPUID 0x80000001, ECX bit 8); checked once.
inline bool write_prefetch_supported() noexcept {
#if defined(__x86_64__)
  static const bool supported = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    return __get_cpuid(0x8000'0001U, &eax, &ebx, &ecx, &edx) != 0 && (ecx & (1U << 8)) != 0;
  }();
  return supported;
#else
  return true;
#endif
}

// A hint only: it changes no memory and never faults.
inline void prefetch_for_write(const void* line, bool supported) noexcept {
#if defined(__x86_64__)
  if (supported) asm volatile("prefetchw %0" : : "m"(*static_cast<const char*>(line)));
#else
  (void)supported;
  __builtin_prefetch(line, 1, 3);
#endif
}

}  // namespace zc::detail
