// zcopy/core/daemon.hpp: a daemon that detaches only once it works.
//
// start_daemon() forks. The child leaves the caller's session and runs `start`; its answer (a
// line to show, or the error that stopped it) goes back to the parent through a pipe. A child that
// started then moves its stdin, stdout and stderr to /dev/null, runs `serve` and exits; one that
// failed exits at once. The parent returns the child's answer, so a command that detaches exits
// with the daemon's verdict rather than before it is known.
//
//   auto line = zc::start_daemon("zcopy mount", [&]() -> zc::Result<std::string> { ... },
//                                [&] { serve_until_stopped(); });
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "zcopy/core/error.hpp"

namespace zc {

// Returns in the parent only: `start`'s line, or its error with the same Errc and message
// (Errc::closed, named `what`, when the child ended before answering).
Result<std::string> start_daemon(std::string_view what,
                                 const std::function<Result<std::string>()>& start,
                                 const std::function<void()>& serve);

}  // namespace zc
