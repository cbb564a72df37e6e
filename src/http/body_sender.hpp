// src/http/body_sender.hpp: moves a response to its socket by one SendMethod, a bounded amount
// at a time. One per event loop (it may own an io_uring); used only from that loop's thread.
#pragma once

#include <liburing.h>

#include <cstdint>
#include <optional>
#include <string>

#include "connection.hpp"
#include "server_state.hpp"

namespace zc::http {

enum class SendOutcome : std::uint8_t {
  done,       // head and body are all in the socket
  blocked,    // the socket is full (or this turn's budget is spent): wait for EPOLLOUT
  failed,     // the peer is gone or a call failed: close
  truncated,  // the file ended before the promised length: close
};

class BodySender {
 public:
  static Result<std::unique_ptr<BodySender>> create(SendMethod method, std::size_t chunk_bytes,
                                                    LedgerCounters& ledger);
  ~BodySender();
  BodySender(const BodySender&) = delete;
  BodySender& operator=(const BodySender&) = delete;

  SendOutcome send(Connection& connection);
  // After `failed`: the call and errno that failed, e.g. "pread: Input/output error".
  const std::string& failure() const noexcept { return failure_; }

 private:
  BodySender(SendMethod method, std::size_t chunk_bytes, LedgerCounters& ledger)
      : method_(method), chunk_(chunk_bytes), ledger_(ledger) {}

  SendOutcome send_head(Connection& c);
  SendOutcome send_body(Connection& c);
  // TCP_CORK on or off; a failure only costs the coalescing, so it is ignored.
  static void set_cork(Connection& c, bool on) noexcept;
  SendOutcome by_sendfile(Connection& c);
  SendOutcome by_splice(Connection& c);
  SendOutcome by_uring(Connection& c);
  SendOutcome by_copy(Connection& c);
  bool ensure_pipe(Connection& c);
  // Records `n` body bytes delivered to the socket without a CPU copy on our side.
  void delivered(std::uint64_t n, bool zero_copy);

  SendMethod method_;
  std::size_t chunk_;
  LedgerCounters& ledger_;
  SendOutcome fail(const char* call, int error);

  std::optional<io_uring> ring_;
  std::string failure_;
};

}  // namespace zc::http
