// tools/zcopy/stop_signals.hpp: the commands' names for the stop flag and signal sets of
// bench/support/stop_signals.hpp, which the loops under bench/ share.
#pragma once

#include "bench/support/stop_signals.hpp"

namespace zc::cli {

using bench::block_stop_signals;
using bench::catch_stop_signals;
using bench::g_stop;
using bench::g_stop_signal;
using bench::stop_signal_set;

}  // namespace zc::cli
