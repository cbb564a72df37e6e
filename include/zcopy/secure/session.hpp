// zcopy/secure/session.hpp: a TLS client connection whose application data we open ourselves.
//
// OpenSSL runs the handshake over the socket: certificates verified against the system store or
// the given CA file/directory, the host name (or IP address) checked, SNI sent, ALPN http/1.1
// offered. Its keylog callback hands us the application traffic secrets. When the result is TLS
// 1.3 with one of our three suites, OpenSSL steps aside: it reads records without read-ahead, so
// not a byte of application data sits in its buffers, and our RecordLayer takes the socket,
// receiving each record into the caller's buffer and revealing it once its tag verified. Any
// other outcome (TLS 1.2, another suite) reads through SSL_read, which costs one more copy; the
// ledger says which path ran.
//
//   auto session = Session::connect({"example.org", 443}, {.ca_file = "ca.pem"});
//   session->write(std::as_bytes(std::span(request)));
//   std::vector<std::byte> buffer(Session::kReadRoom);
//   while (true) {
//     auto data = session->read(buffer);       // verified bytes, in place in `buffer`
//     if (!data) { report(data.error()); break; }
//     if (data->empty()) break;                // the server ended with close_notify
//     out.write(*data);
//   }
//
// A Session owns its socket. Not thread-safe: one thread drives it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "zcopy/core/error.hpp"
#include "zcopy/core/fd.hpp"
#include "zcopy/core/transfer_ledger.hpp"
#include "zcopy/net/endpoint.hpp"
#include "zcopy/secure/record_format.hpp"

namespace zc::secure {

struct SessionOptions {
  std::string ca_file{};  // PEM bundle to trust instead of the system store (curl's --cacert)
  std::string ca_path{};  // hashed certificate directory (curl's --capath)
  bool insecure = false;  // no certificate or name check (curl's -k); the caller warns
  std::chrono::milliseconds timeout{30000};  // connect, handshake and each read or write
  // TLS 1.3 suites to offer, in OpenSSL's syntax ("TLS_AES_256_GCM_SHA384"); empty: defaults.
  std::string tls13_suites{};
  bool allow_tls12 = true;  // false: TLS 1.3 only
  bool allow_tls13 = true;  // false: TLS 1.2 only (tests the SSL_read path)
};

// Which code opens the records of a session.
enum class ReadPath : std::uint8_t {
  record_layer,  // ours: in place into the caller's buffer, revealed after the tag
  ssl_read,      // OpenSSL's SSL_read: decrypted in its buffer, then copied into the caller's
};

class Session {
 public:
  // Room `read` needs in its buffer: any record fits.
  static constexpr std::size_t kReadRoom = kMaxCiphertext;

  // Connects to `endpoint` and runs the handshake; the host name is checked against the
  // certificate and sent as SNI (an IP literal is checked as an address and not sent).
  static Result<Session> connect(const net::Endpoint& endpoint, const SessionOptions& options);
  // The handshake over a connected socket, which the session takes over.
  static Result<Session> handshake(Fd socket, const std::string& host,
                                   const SessionOptions& options);

  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;
  ~Session();

  // The next application data, verified, at the start of `buffer`; empty once the server closed
  // with close_notify. A server that closes without it is an error (the body may be truncated).
  Result<std::span<const std::byte>> read(std::span<std::byte> buffer);
  // The same in the session's own buffer, where our record layer reads ahead: one system call
  // brings in what the socket holds, many records, each opened in place where it arrived. The
  // view stays valid until a read() made while record_waiting() is false. A session is read
  // either this way or with read(buffer), not both.
  Result<std::span<const std::byte>> read();
  // As read(), from whole records already received only; std::nullopt when the next would have
  // to be read from the socket (always, on the SSL_read path). Views handed out earlier stay
  // valid, so a caller can gather several records and write them with one call.
  Result<std::optional<std::span<const std::byte>>> read_waiting();
  // Whether read() would find a whole record already received (no wait for the socket).
  bool record_waiting() const noexcept;
  Result<void> write(std::span<const std::byte> data);
  // Sends a KeyUpdate; `ask_peer` asks the server to update its keys too.
  Result<void> update_keys(bool ask_peer);
  // Sends close_notify.
  Result<void> close();

  ReadPath path() const noexcept;
  // "TLS 1.3 TLS_AES_256_GCM_SHA384, records opened in place (kTLS: ...)".
  std::string describe() const;
  // The negotiated ALPN protocol ("http/1.1"), empty when none.
  std::string alpn() const;
  int fd() const noexcept;
  // KeyUpdates the server sent, and those we sent (answers included); 0 on the SSL_read path.
  std::uint64_t key_updates_received() const noexcept;
  std::uint64_t key_updates_sent() const noexcept;
  // Counts what reading `bytes` of application data cost on this session's path: the socket's
  // copy into user memory (the kernel's) and, on the SSL_read path, OpenSSL's copy out of its
  // buffer (user space). The cipher's pass over the data is not a copy: it is counted apart, as
  // bytes_ciphered.
  void account_read(TransferLedger& ledger, std::uint64_t bytes) const;

 private:
  struct State;
  explicit Session(std::unique_ptr<State> state);
  Result<std::span<const std::byte>> ssl_read(std::span<std::byte> buffer);
  std::unique_ptr<State> state_;
};

}  // namespace zc::secure
