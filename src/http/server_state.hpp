// src/http/server_state.hpp: what every event loop of one Server shares.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "zcopy/core/fd.hpp"
#include "zcopy/http/access_log.hpp"
#include "zcopy/http/server.hpp"

namespace zc::http {

// The ledger's counters, added to by every loop with relaxed atomics (they are totals only; no
// other memory is published through them).
struct LedgerCounters {
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::uint64_t> zero_copy{0};
  std::atomic<std::uint64_t> copied_user{0};
  std::atomic<std::uint64_t> copied_kernel{0};
};

struct SharedState {
  ServerOptions options;
  SendMethod method = SendMethod::sendfile;
  Fd root;  // O_PATH directory every path is opened beneath
  AccessLog access_log;
  LedgerCounters ledger;
  std::atomic<std::uint64_t> open_connections{0};
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> timeouts{0};
  std::atomic<std::uint64_t> truncated{0};

  // One line to the error log, in a single write(2).
  void log_error(const std::string& line) const;
};

}  // namespace zc::http
