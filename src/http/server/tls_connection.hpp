// src/http/server/tls_connection.hpp: the TLS side of one server connection: its handshake, its
// requests read from verified records, and its responses sealed and sent.
//
// Sending on the record-layer path (TLS 1.3, our suites): each record's content is sealed from
// where it lies (the head from the response string, file bytes from the file's mapped pages) into
// a slot of the connection's pinned buffer, so the cipher's output is the only write of each
// byte, and a slot of records leaves through the zero-copy sender; the slot is sealed again only
// once the kernel says it let go of it. A turn seals no more than the socket has room for (never
// less than one record), so the loop thread does not wait inside a send. When every slot is still
// in flight, the turn reports it (`waiting_for_completions`) and the loop waits for the error
// queue's notification rather than for room. On the SSL path (TLS 1.2) the file is read into a
// buffer and handed to SSL_write: one more copy, counted.
//
// Used only from the connection's loop thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connection.hpp"
#include "zcopy/mem/region.hpp"
#include "zcopy/net/file_to_socket.hpp"
#include "zcopy/net/zerocopy_sender.hpp"
#include "zcopy/secure/server_session.hpp"

namespace zc::http {

// A read-only mapping of a file range, unmapped on destruction.
class FileMapping {
 public:
  static Result<FileMapping> map(int fd, std::uint64_t first, std::uint64_t end);
  FileMapping(FileMapping&& other) noexcept;
  FileMapping& operator=(FileMapping&& other) noexcept;
  ~FileMapping();
  // The bytes of file offsets [offset, offset + size), which must lie inside the mapped range.
  std::span<const std::byte> at(std::uint64_t offset, std::size_t size) const noexcept;
  bool covers(std::uint64_t first, std::uint64_t end) const noexcept {
    return first >= base_ && end <= base_ + length_;
  }

 private:
  FileMapping(std::byte* data, std::size_t length, std::uint64_t base)
      : data_(data), length_(length), base_(base) {}
  std::byte* data_ = nullptr;
  std::size_t length_ = 0;
  std::uint64_t base_ = 0;  // file offset of data_[0]
};

class TlsConnection {
 public:
  static Result<std::unique_ptr<TlsConnection, TlsConnectionDelete>> accept(
      const secure::ServerContext& context, int fd);
  ~TlsConnection();

  Result<secure::HandshakeStep> handshake() { return session_.handshake(); }
  // Appends the request bytes whole records hold to `in`, up to about `limit` bytes in all;
  // false once the client closed.
  Result<bool> read_into(std::string& in, std::size_t limit);
  // One turn of `c`'s response, at most `budget` bytes; counts into `counters`.
  Result<net::SendTurn> send(Connection& c, net::CopyCounters& counters, std::size_t budget);
  // The last turn stopped because every slot is still in the kernel's hands.
  bool waiting_for_completions() const noexcept { return waiting_; }
  // close_notify when the socket takes it, then lets go of sends in flight.
  void close(bool graceful) noexcept;

  const secure::ServerSession& session() const noexcept { return session_; }

 private:
  TlsConnection(int fd, secure::ServerSession session) : fd_(fd), session_(std::move(session)) {}
  Result<net::SendTurn> send_records(Connection& c, net::CopyCounters& counters,
                                     std::size_t budget);
  Result<net::SendTurn> send_by_ssl_write(Connection& c, net::CopyCounters& counters,
                                          std::size_t budget);
  Result<void> prepare_sender();
  std::size_t socket_room() const noexcept;
  void account_sender() noexcept;

  int fd_;
  secure::ServerSession session_;
  // Record-layer path. The sender is declared after the slots it sends from, so it goes first.
  std::optional<Region> slots_;
  std::vector<bool> slot_busy_;
  std::optional<net::ZeroCopySender> sender_;
  std::optional<FileMapping> mapping_;
  net::CopyCounters* counters_ = nullptr;  // where send() counts; completions found later too
  std::uint64_t accounted_zero_copy_ = 0;
  std::uint64_t accounted_copied_ = 0;
  bool waiting_ = false;
  // SSL path: file bytes read and not yet taken by SSL_write.
  std::vector<std::byte> plain_;
  std::size_t plain_begin_ = 0;
  std::size_t plain_end_ = 0;
};

}  // namespace zc::http
