// zcopy/core/wake.hpp: the kernel objects a process sleeps on: eventfds to wake a peer, pidfds to
// learn of its death, timerfds for deadlines, an epoll set over them, and futexes in shared memory.
//
//   auto wake = zc::make_eventfd();           // the peer calls signal_eventfd(fd) after its store
//   auto peer = zc::open_pidfd(pid);          // readable once `pid` exits
//   zc::futex_wait(&word, seen, deadline);    // sleeps while word == seen, in any process
//   zc::futex_wake(&word);                    // after changing word
//
// Futexes here are the shared kind (no FUTEX_PRIVATE_FLAG): the word may sit in memory that other
// processes map, e.g. a memfd Region.
#pragma once

#include <sys/types.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdint>

#include "zcopy/core/error.hpp"
#include "zcopy/core/fd.hpp"

namespace zc {

using Clock = std::chrono::steady_clock;

// A non-blocking, close-on-exec eventfd starting at 0.
Result<Fd> make_eventfd();
// Adds 1 to the counter; a full counter (never in practice) or a closed peer is ignored.
void signal_eventfd(int fd) noexcept;
// Resets the counter to 0 without blocking.
void drain_eventfd(int fd) noexcept;

// pidfd_open(2): a descriptor that becomes readable when `pid` exits.
Result<Fd> open_pidfd(pid_t pid);
// True once the process behind `pidfd` has exited.
bool pidfd_exited(int pidfd) noexcept;

// A non-blocking, close-on-exec timerfd on CLOCK_MONOTONIC (the steady clock), disarmed.
Result<Fd> make_timerfd();
// Arms `fd` to fire once at `when`.
void set_timerfd(int fd, Clock::time_point when) noexcept;

Result<Fd> make_epoll();
// Registers `fd` for `events` with `data` handed back by epoll_wait.
Result<void> epoll_add(int epoll_fd, int fd, std::uint32_t events, std::uint64_t data);

// CLOCK_MONOTONIC_COARSE, the time at the last timer tick (1-4 ms behind): a fraction of
// steady_clock's cost to read (docs/PERFORMANCE.md), for checks made on every message that only
// care whether milliseconds have passed.
inline std::chrono::nanoseconds coarse_now() noexcept {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec);
}

// Milliseconds left until `deadline`, rounded up, 0 when past; for poll(2) and epoll_wait(2).
int remaining_ms(Clock::time_point deadline) noexcept;

// Sleeps while `word` still holds `expected`, until `deadline` (CLOCK_MONOTONIC, as Clock) or a
// futex_wake. Returns true when woken or when the word already differed, false at the deadline.
// Spurious returns happen: callers re-check their condition in a loop.
bool futex_wait(const std::atomic<std::uint32_t>* word, std::uint32_t expected,
                Clock::time_point deadline) noexcept;
// Wakes up to `count` sleepers on `word`, in any process that maps it.
void futex_wake(const std::atomic<std::uint32_t>* word, int count = 1'000'000) noexcept;

// A pause that tells the CPU we are spinning (another hyperthread may run).
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace zc
