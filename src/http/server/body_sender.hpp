// src/http/server/body_sender.hpp: sends a connection's response by the server's method, a bounded
// amount at a time, through the FileToSocket mover. One per event loop (the mover may own a
// ring); used only from that loop's thread.
#pragma once

#include "connection.hpp"
#include "zcopy/net/file_to_socket.hpp"

namespace zc::http {

class BodySender {
 public:
  static Result<BodySender> create(net::FileSendMethod method, std::size_t chunk_bytes,
                                   net::CopyCounters& ledger) {
    auto mover = net::FileToSocket::create(method, chunk_bytes, ledger);
    if (!mover) return std::unexpected(mover.error());
    return BodySender(std::move(*mover));
  }

  // One turn: done, blocked (wait for EPOLLOUT) or truncated (the file shrank); an error is the
  // call that failed, and the connection is to be closed.
  Result<net::SendTurn> send(Connection& c) {
    return mover_.send(c.socket.get(), c.response.transfer, c.sending);
  }

 private:
  explicit BodySender(net::FileToSocket mover) : mover_(std::move(mover)) {}
  net::FileToSocket mover_;
};

}  // namespace zc::http
