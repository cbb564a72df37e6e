// src/http/server/server_state.hpp: what every event loop of one Server shares.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "digest_cache.hpp"
#include "zcopy/core/fd.hpp"
#include "zcopy/http/server/access_log.hpp"
#include "zcopy/http/server/server.hpp"
#include "zcopy/net/file_to_socket.hpp"
#include "zcopy/secure/server_session.hpp"

namespace zc::http {

struct SharedState {
  ServerOptions options;
  net::FileSendMethod method = net::FileSendMethod::sendfile;
  Fd root;                                   // O_PATH directory every path is opened beneath
  std::optional<secure::ServerContext> tls;  // set when serving HTTPS
  AccessLog access_log;
  std::unique_ptr<DigestCache> digests;  // when options.repr_digest
  net::CopyCounters ledger;              // every loop's mover adds to it
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
