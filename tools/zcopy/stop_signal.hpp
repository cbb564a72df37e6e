// tools/zcopy/stop_signal.hpp: SIGINT and SIGTERM as a flag that long-running commands poll, so
// that they stop cleanly (flush, report, leave things resumable) instead of dying mid-write.
#pragma once

#include <atomic>
#include <csignal>

namespace zc::cli {

// Set by the first SIGINT or SIGTERM; a second one takes the default action and ends the process.
extern std::atomic<bool> g_stop;
// The signal that set g_stop.
extern volatile sig_atomic_t g_signal;

// Installs the handler (without SA_RESTART: blocked reads return and see the flag).
void catch_stop_signals();

}  // namespace zc::cli
