#include "bench/support/stop_signals.hpp"

namespace zc::bench {

std::atomic<bool> g_stop{false};
volatile sig_atomic_t g_stop_signal = 0;
static_assert(std::atomic<bool>::is_always_lock_free);  // stored from a signal handler

namespace {

void on_stop_signal(int signal) {
  g_stop_signal = signal;
  g_stop.store(true, std::memory_order_relaxed);
}

}  // namespace

void catch_stop_signals() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  // Not SA_RESTART: blocked reads return and see the flag.
  action.sa_flags = static_cast<int>(SA_RESETHAND);
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

sigset_t stop_signal_set(int extra) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (extra != 0) sigaddset(&set, extra);
  return set;
}

sigset_t block_stop_signals(int extra) {
  const sigset_t set = stop_signal_set(extra);
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

}  // namespace zc::bench
