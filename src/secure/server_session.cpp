#include "zcopy/secure/server_session.hpp"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

#include "openssl_support.hpp"
#include "zcopy/core/fd.hpp"
#include "zcopy/secure/ktls.hpp"
#include "zcopy/secure/record_layer.hpp"

namespace zc::secure {

namespace {

constexpr std::uint8_t kHandshakeRecord = 22;

// ALPN: http/1.1 when the client offers it; otherwise no ALPN at all (a client offering only h2
// then speaks HTTP/1.1 or gives up, as it would with a server that knows no ALPN).
int select_alpn(SSL*, const unsigned char** out, unsigned char* out_length, const unsigned char* in,
                unsigned int in_length, void*) {
  static constexpr unsigned char kHttp11[] = "http/1.1";
  for (unsigned int at = 0; at < in_length;) {
    const unsigned int length = in[at];
    if (at + 1 + length > in_length) break;
    if (length == 8 && std::memcmp(in + at + 1, kHttp11, 8) == 0) {
      *out = in + at + 1;
      *out_length = 8;
      return SSL_TLSEXT_ERR_OK;
    }
    at += 1 + length;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

// Whether `path` can be opened for reading; the errno's words when not.
std::optional<std::string> unreadable(const std::string& path) {
  auto file = Fd::open(path, O_RDONLY);
  if (file) return std::nullopt;
  return std::string(std::strerror(file.error().sys_errno()));
}

Error file_error(const std::string& option, const std::string& path, const std::string& what) {
  return Error::make(Errc::usage, "serve " + option + " " + path, what);
}

}  // namespace

struct ServerContext::Shared {
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx;
  std::string ktls;  // the kTLS probe's answer
};

struct ServerSession::State {
  int fd = -1;
  std::shared_ptr<ServerContext::Shared> context;
  std::unique_ptr<SSL, SslFree> ssl;
  CapturedSecrets secrets;  // from the keylog callback, dropped after the handshake
  bool checked_first_byte = false;
  bool done = false;
  std::optional<RecordLayer> layer;  // set when our record layer runs the connection
  std::string why_ssl;               // when it does not
  std::vector<std::byte> buffer;     // where records arrive and are opened
  bool closed = false;
};

Result<ServerContext> ServerContext::load(const ServerTlsOptions& options) {
  if (auto why = unreadable(options.cert_file))
    return std::unexpected(file_error("--cert", options.cert_file, *why));
  if (auto why = unreadable(options.key_file))
    return std::unexpected(file_error("--key", options.key_file, *why));
  auto shared = std::make_shared<Shared>();
  shared->ctx.reset(SSL_CTX_new(TLS_server_method()));
  SSL_CTX* ctx = shared->ctx.get();
  if (ctx == nullptr) return std::unexpected(openssl_error(Errc::system, "SSL_CTX_new"));
  SSL_CTX_set_min_proto_version(ctx, options.allow_tls12 ? TLS1_2_VERSION : TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  // No read-ahead: OpenSSL reads one record at a time, so after the handshake every application
  // record is still in the socket for our record layer. No tickets: the first record we send is
  // ours, with sequence number 0, and nothing is resumed.
  SSL_CTX_set_read_ahead(ctx, 0);
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_keylog_callback(ctx, capture_secret);
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
  if (!options.tls13_suites.empty() &&
      SSL_CTX_set_ciphersuites(ctx, options.tls13_suites.c_str()) != 1)
    return fail(Errc::usage, "TLS", "no usable TLS 1.3 suite in '" + options.tls13_suites + "'");

  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(ctx, options.cert_file.c_str()) != 1) {
    ERR_clear_error();
    return std::unexpected(
        file_error("--cert", options.cert_file, "no certificate in it (PEM expected)"));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    const bool mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
    ERR_clear_error();
    if (mismatch)
      return std::unexpected(file_error(
          "--key", options.key_file, "does not belong to the certificate in " + options.cert_file));
    return std::unexpected(
        file_error("--key", options.key_file, "no private key in it (PEM expected)"));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return std::unexpected(file_error(
        "--key", options.key_file, "does not belong to the certificate in " + options.cert_file));
  }
  auto ktls = probe_ktls();
  shared->ktls = ktls ? "kTLS: available, not used yet" : ktls.error().message();
  return ServerContext(std::move(shared));
}

Result<ServerSession> ServerContext::accept(int fd) const {
  auto state = std::make_unique<ServerSession::State>();
  state->fd = fd;
  state->context = shared_;
  state->ssl.reset(SSL_new(shared_->ctx.get()));
  SSL* ssl = state->ssl.get();
  if (ssl == nullptr) return std::unexpected(openssl_error(Errc::system, "SSL_new"));
  SSL_set_ex_data(ssl, 0, &state->secrets);
  SSL_set_quiet_shutdown(ssl, 1);
  if (SSL_set_fd(ssl, fd) != 1) return std::unexpected(openssl_error(Errc::system, "SSL_set_fd"));
  SSL_set_accept_state(ssl);
  return ServerSession(std::move(state));
}

ServerSession::ServerSession(std::unique_ptr<State> state) : state_(std::move(state)) {}
ServerSession::ServerSession(ServerSession&&) noexcept = default;
ServerSession& ServerSession::operator=(ServerSession&&) noexcept = default;
ServerSession::~ServerSession() = default;

Result<HandshakeStep> ServerSession::handshake() {
  State& s = *state_;
  if (s.done) return HandshakeStep::done;
  if (!s.checked_first_byte) {
    // A TLS client opens with a handshake record; anything else (plain HTTP, say) gets no
    // answer from us, not even an alert it could not read.
    std::uint8_t first = 0;
    const ssize_t n = ::recv(s.fd, &first, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return HandshakeStep::want_read;
    if (n < 0) return std::unexpected(Error::from_errno(errno, "TLS handshake: recv"));
    if (n == 0) return fail(Errc::closed, "TLS handshake", "the client closed the connection");
    if (first != kHandshakeRecord) return HandshakeStep::not_tls;
    s.checked_first_byte = true;
  }
  SSL* ssl = s.ssl.get();
  ERR_clear_error();
  const int rc = SSL_do_handshake(ssl);
  if (rc != 1) {
    const int reason = SSL_get_error(ssl, rc);
    if (reason == SSL_ERROR_WANT_READ) return HandshakeStep::want_read;
    if (reason == SSL_ERROR_WANT_WRITE) return HandshakeStep::want_write;
    if (reason == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
      return fail(Errc::closed, "TLS handshake", "the client closed the connection");
    return std::unexpected(openssl_error(Errc::rejected, "TLS handshake"));
  }
  s.done = true;

  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
  const auto suite =
      suite_from_iana(static_cast<std::uint16_t>(SSL_CIPHER_get_protocol_id(cipher)));
  if (SSL_version(ssl) != TLS1_3_VERSION) {
    s.why_ssl = "TLS 1.2 records go through SSL_read and SSL_write";
  } else if (!suite) {
    s.why_ssl = std::string("suite ") + SSL_CIPHER_get_name(cipher) + " is not ours";
  } else if (SSL_has_pending(ssl) != 0) {
    // Never expected without read-ahead; if OpenSSL holds bytes, only it may read them.
    s.why_ssl = "OpenSSL holds unread record bytes after the handshake";
  } else if (!s.secrets.client || !s.secrets.server) {
    s.why_ssl = "OpenSSL did not report the traffic secrets";
  } else {
    auto layer = RecordLayer::create(s.fd, *suite, *s.secrets.client, *s.secrets.server);
    if (!layer) return std::unexpected(layer.error());
    s.layer.emplace(std::move(*layer));
    s.layer->accept_eof_as_end();
  }
  s.secrets = {};
  SSL_set_ex_data(ssl, 0, nullptr);
  s.buffer.resize(kMaxCiphertext);
  return HandshakeStep::done;
}

Result<std::span<const std::byte>> ServerSession::read() {
  State& s = *state_;
  if (!s.done) return fail(Errc::invalid_argument, "TLS read", "the handshake is not done");
  if (s.layer) return s.layer->read(s.buffer);
  if (s.closed) return std::span<const std::byte>{};
  ERR_clear_error();
  const int n = SSL_read(s.ssl.get(), s.buffer.data(), static_cast<int>(s.buffer.size()));
  if (n > 0) return std::span<const std::byte>(s.buffer.data(), static_cast<std::size_t>(n));
  const int reason = SSL_get_error(s.ssl.get(), n);
  if (reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE)
    return std::unexpected(Error::from_errno(EAGAIN, "TLS read (SSL_read)"));
  if (reason == SSL_ERROR_ZERO_RETURN ||
      (reason == SSL_ERROR_SSL &&
       ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) ||
      (reason == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
    ERR_clear_error();
    s.closed = true;
    return std::span<const std::byte>{};
  }
  return std::unexpected(openssl_error(Errc::rejected, "TLS read (SSL_read)"));
}

ReadPath ServerSession::path() const noexcept {
  return state_->layer ? ReadPath::record_layer : ReadPath::ssl_read;
}

RecordWriter* ServerSession::record_writer() noexcept {
  return state_->layer ? &state_->layer->writer() : nullptr;
}

Result<std::size_t> ServerSession::write_some(std::span<const std::byte> data) {
  State& s = *state_;
  if (s.layer)
    return fail(Errc::invalid_argument, "TLS write", "records are sealed by the record writer");
  if (data.empty()) return 0;
  const int size = static_cast<int>(std::min<std::size_t>(data.size(), 1 << 30));
  ERR_clear_error();
  const int n = SSL_write(s.ssl.get(), data.data(), size);
  if (n > 0) return static_cast<std::size_t>(n);
  const int reason = SSL_get_error(s.ssl.get(), n);
  if (reason == SSL_ERROR_WANT_WRITE || reason == SSL_ERROR_WANT_READ) return 0;
  if (reason == SSL_ERROR_SYSCALL && errno != 0)
    return std::unexpected(Error::from_errno(errno, "TLS write (SSL_write)"));
  return std::unexpected(openssl_error(Errc::system, "TLS write (SSL_write)"));
}

void ServerSession::close_notify() noexcept {
  State& s = *state_;
  if (!s.done) return;
  if (s.layer) {
    (void)s.layer->close();
    return;
  }
  SSL_set_quiet_shutdown(s.ssl.get(), 0);
  (void)SSL_shutdown(s.ssl.get());
  ERR_clear_error();
}

std::string ServerSession::describe() const {
  const State& s = *state_;
  std::string text = SSL_get_version(s.ssl.get());
  text += " ";
  text += SSL_CIPHER_get_name(SSL_get_current_cipher(s.ssl.get()));
  if (s.layer)
    text += ", records sealed and opened by zcopy";
  else
    text += ", SSL_read and SSL_write (one more copy): " + s.why_ssl;
  text += " (" + s.context->ktls + ")";
  return text;
}

std::string ServerSession::alpn() const {
  return selected_alpn(state_->ssl.get());
}

}  // namespace zc::secure
