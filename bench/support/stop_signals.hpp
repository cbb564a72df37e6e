// bench/support/stop_signals.hpp: how a long-running command hears Ctrl-C and SIGTERM: either the
// first one sets a flag its loops check and a second one takes the default action and ends the
// process, or they stay blocked and the command takes them with sigwait/sigtimedwait.
#pragma once

#include <signal.h>

#include <atomic>

namespace zc::bench {

// Set by the first SIGINT or SIGTERM once catch_stop_signals() ran.
extern std::atomic<bool> g_stop;
// Which of the two it was (0 before either).
extern volatile sig_atomic_t g_stop_signal;

// Installs the handler for SIGINT and SIGTERM, one-shot and without SA_RESTART, so that blocked
// calls return and see the flag.
void catch_stop_signals();

// SIGINT, SIGTERM and `extra` (0: none), e.g. SIGHUP for a daemon.
sigset_t stop_signal_set(int extra = 0);
// Blocks stop_signal_set(extra) in the calling thread, so that threads started later inherit the
// mask and only the thread waiting with sigwait sees them; returns the set.
sigset_t block_stop_signals(int extra = 0);

}  // namespace zc::bench
