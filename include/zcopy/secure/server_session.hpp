// zcopy/secure/server_session.hpp: the server side of TLS on a non-blocking socket, for an event
// loop: OpenSSL runs the handshake, then, for TLS 1.3 with one of our three suites, we run the
// records ourselves.
//
// A ServerContext holds the certificate and key (loaded and checked once, so a bad file is one
// line at start-up) and the protocol settings: TLS 1.3 and 1.2, ALPN http/1.1 chosen when the
// client offers it, no session tickets (nothing is resumed). `accept` starts a ServerSession on an
// accepted socket; `handshake()` advances it as far as the socket allows and says what it waits
// for. A client that sends something other than a TLS handshake record first (plain HTTP on the
// TLS port) is answered by nothing: `not_tls`, and the caller closes the connection.
//
// Once the handshake is done on TLS 1.3 with AES-128/256-GCM or ChaCha20-Poly1305, OpenSSL steps
// aside (it reads without read-ahead and sends no tickets, so no application record passed through
// it): `read()` receives records into the session's buffer and reveals them only once their tag
// verified (RecordLayer), and `record_writer()` seals what the server sends, typically a file's
// pages sealed from where they lie into registered buffers for the zero-copy sender. TLS 1.2
// reads through SSL_read and writes through SSL_write (`write_some`): one more copy each way.
//
//   auto context = ServerContext::load({.cert_file = "cert.pem", .key_file = "key.pem"});
//   auto session = context->accept(fd);                  // fd: accepted, non-blocking
//   while (*session->handshake() != HandshakeStep::done) wait_for_the_socket();
//   auto request = session->read();                      // verified bytes, or EAGAIN
//
// The session borrows the socket, which must outlive it. Not thread-safe: one thread drives it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "zcopy/core/error.hpp"
#include "zcopy/secure/record_writer.hpp"
#include "zcopy/secure/session.hpp"

namespace zc::secure {

struct ServerTlsOptions {
  std::string cert_file;       // PEM: the server's certificate, then any intermediates
  std::string key_file;        // PEM: its private key
  std::string tls13_suites{};  // TLS 1.3 suites in OpenSSL's syntax; empty: the three defaults
  bool allow_tls12 = true;
};

enum class HandshakeStep : std::uint8_t {
  done,        // application data may flow
  want_read,   // wait until the socket is readable, then call handshake() again
  want_write,  // wait until it is writable
  not_tls,     // the client's first byte is not a TLS handshake record: close the connection
};

class ServerSession;

class ServerContext {
 public:
  // Loads and checks the certificate chain and the key: Errc::usage with one line naming the file
  // and what is wrong with it (missing, not PEM, a key that does not match the certificate).
  static Result<ServerContext> load(const ServerTlsOptions& options);

  // A session on `fd` (accepted, non-blocking; borrowed); the handshake starts at handshake().
  Result<ServerSession> accept(int fd) const;

  struct Shared;

 private:
  explicit ServerContext(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}
  std::shared_ptr<Shared> shared_;  // the SSL_CTX, shared by every session of every loop
};

class ServerSession {
 public:
  ServerSession(ServerSession&&) noexcept;
  ServerSession& operator=(ServerSession&&) noexcept;
  ~ServerSession();

  // Advances the handshake; an error names why it failed (the client refused our certificate,
  // no common protocol or suite, a connection closed mid-way).
  Result<HandshakeStep> handshake();

  // After the handshake. The next application data from the client, verified, in the session's
  // own buffer (valid until the next call); empty once the client closed (with close_notify or,
  // after a whole record, without: a client is done once it stops sending). An EAGAIN error:
  // no whole record yet, wait for the socket to be readable.
  Result<std::span<const std::byte>> read();

  ReadPath path() const noexcept;
  // Our record writer on the record-layer path (null on the SSL path): seal into your own
  // buffers and send them yourself, in order, on the socket.
  RecordWriter* record_writer() noexcept;
  // The SSL path: encrypts and writes what the socket takes of `data`; 0 when it takes nothing
  // now (wait for writable, then call again with the same bytes).
  Result<std::size_t> write_some(std::span<const std::byte> data);
  // Sends close_notify if the socket takes it now; never blocks.
  void close_notify() noexcept;

  // "TLS 1.3 TLS_AES_256_GCM_SHA384, records sealed and opened by zcopy".
  std::string describe() const;
  std::string alpn() const;

  struct State;

 private:
  friend class ServerContext;
  explicit ServerSession(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace zc::secure
