// tools/zcopy/stop_signals.hpp: how a long-running command hears Ctrl-C and SIGTERM: the first
// one sets a flag its loops check; a second one takes the default action and ends the process.
#pragma once

#include <signal.h>

#include <atomic>

namespace zc::cli {

// Set by the first SIGINT or SIGTERM once catch_stop_signals() ran.
extern std::atomic<bool> g_stop;
// Which of the two it was (0 before either).
extern volatile sig_atomic_t g_stop_signal;

// Installs the handler for SIGINT and SIGTERM, one-shot and without SA_RESTART, so that blocked
// calls return and see the flag.
void catch_stop_signals();

}  // namespace zc::cli
