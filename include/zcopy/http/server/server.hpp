// zcopy/http/server/server.hpp: a static-file HTTP/1.1 server whose bodies never pass through user
// memory.
//
//   zc::http::ServerOptions options{.root = "/data"};
//   options.bind = {"127.0.0.1", 0};
//   zc::Result<std::unique_ptr<zc::http::Server>> server = zc::http::Server::start(options);
//   std::printf("serving at %s\n", (*server)->url().c_str());
//   ...
//   (*server)->stop();
//   std::puts((*server)->ledger().summary().c_str());
//
// GET and HEAD with keep-alive and pipelining, one byte range (206/416), Last-Modified and ETag
// with conditional requests (304), Repr-Digest and mirror Links for files, Content-Type by
// extension, directory listings (HTML, or JSON for "Accept: application/json"; see
// directory_listing.hpp) and 301 to a directory's slash form.
//
// Threads: one event loop per thread (one per core by default), each with its own listener in
// one SO_REUSEPORT group, so the kernel spreads connections and loops share nothing but the access
// log and counters. The group is the server's own: a port another server listens on is refused
// (EADDRINUSE) rather than shared. The loops are non-blocking and level-triggered on epoll; a loop
// sends at most a few MiB to one connection before it serves the next. Every body leaves by the
// chosen net::FileSendMethod, through a net::FileToSocket mover.
//
// Limits: the request head size (431), the connection count (503 to the excess), a header timeout
// that a client trickling bytes cannot extend (slowloris), and an idle timeout both between
// keep-alive requests and while a slow reader stalls a send. A file that shrinks while it is sent
// ends that connection cleanly, with a line in the error log.
//
// HTTPS (options.tls): OpenSSL runs the handshake; on TLS 1.3 with AES-GCM or ChaCha20-Poly1305
// the server then runs the records itself: requests are revealed only once their record's tag
// verified, and file bytes are sealed from the file's mapped pages into pinned buffers and sent by
// the zero-copy sender, so the cipher's output is the only write of each byte. TLS 1.2 goes
// through SSL_read and SSL_write (the file read into a buffer first: one more copy). A client that
// speaks plain HTTP to the TLS port is closed without an answer. The ledger counts the cipher's
// pass apart from copies (bytes_ciphered).
//
// Safety: request paths are decoded and refused on "..", NUL and non-origin forms (url_path.hpp),
// then opened with openat2(RESOLVE_BENEATH) (open_beneath.hpp), so nothing outside `root` can be
// reached, symlinks included.
//
// start(), stop() and the accessors may be called from any thread; stop() is idempotent and joins
// the loops.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "zcopy/core/error.hpp"
#include "zcopy/core/transfer_ledger.hpp"
#include "zcopy/net/endpoint.hpp"
#include "zcopy/net/file_to_socket.hpp"
#include "zcopy/secure/server_session.hpp"

namespace zc::http {

struct ServerOptions {
  std::string root;  // the served directory
  net::Endpoint bind{"127.0.0.1", 8080};
  net::FileSendMethod method = net::FileSendMethod::automatic;
  unsigned threads = 0;  // event loops; 0 = one per core
  std::size_t max_connections = 10000;
  std::size_t max_head_bytes = 16 * 1024;
  std::size_t chunk_bytes = 2 * 1024 * 1024;  // bytes per sendfile call (nginx: 2m too)
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  int access_log_fd = 2;  // borrowed; -1 for none
  int error_log_fd = 2;   // borrowed; -1 for none
  // HTTPS: every connection is TLS (1.3 or 1.2) with this certificate and key; see
  // secure/server_session.hpp and the class comment.
  std::optional<secure::ServerTlsOptions> tls{};
  // Repr-Digest (RFC 9530) on every file response: the SHA-256 is computed once per file version
  // and kept in the file's user.zcopy.repr-digest xattr; a file larger than digest_inline_limit is
  // hashed in the background, and answered without the field until then.
  bool repr_digest = true;
  std::uint64_t digest_inline_limit = 16 * 1024 * 1024;
  // Base URLs of mirrors of this tree: each file response links to the same path under each,
  // "Link: <BASE/path>; rel=duplicate" (RFC 6249).
  std::vector<std::string> mirrors{};
};

// Counters since start; read with relaxed loads, so a snapshot taken while loops run is
// approximate.
struct ServerStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_open = 0;
  std::uint64_t connections_rejected = 0;  // over max_connections (503)
  std::uint64_t requests = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t truncated_files = 0;
};

class Server {
 public:
  static Result<std::unique_ptr<Server>> start(const ServerOptions& options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const noexcept;
  // "http://127.0.0.1:8080/" (IPv6 hosts bracketed); "https://" when serving TLS.
  std::string url() const;
  net::FileSendMethod method() const noexcept;
  // The one line `automatic` printed about a fallback, or empty.
  const std::string& method_note() const noexcept;

  void stop();
  ServerStats stats() const noexcept;
  // File body bytes sent and what they cost: CPU time of the whole process since start().
  TransferLedger ledger() const;

  struct State;

 private:
  explicit Server(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace zc::http
