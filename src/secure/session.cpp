#include "zcopy/secure/session.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <optional>
#include <string_view>
#include <vector>

#include "openssl_support.hpp"
#include "zcopy/core/syscall.hpp"
#include "zcopy/net/tcp.hpp"
#include "zcopy/secure/ktls.hpp"
#include "zcopy/secure/record_layer.hpp"

namespace zc::secure {

namespace {

bool is_ip_literal(const std::string& host) {
  unsigned char address[16];
  return ::inet_pton(AF_INET, host.c_str(), address) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), address) == 1;
}

Result<void> set_timeouts(int fd, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  for (int option : {SO_RCVTIMEO, SO_SNDTIMEO}) {
    if (auto r = sys_call({"setsockopt(SO_RCVTIMEO)", fd},
                          [&] { return ::setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv); });
        !r)
      return std::unexpected(r.error());
  }
  return {};
}

}  // namespace

struct Session::State {
  Fd socket;
  std::string host;
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx;
  std::unique_ptr<SSL, SslFree> ssl;
  CapturedSecrets secrets;           // from the keylog callback, dropped after the handshake
  std::optional<RecordLayer> layer;  // set when our record layer runs the connection
  std::string why_ssl_read;          // when it does not
  std::string ktls;                  // the kTLS probe's answer
  std::vector<std::byte> buffer;     // read(): SSL_read's destination on that path
  bool closed = false;
};

Session::Session(std::unique_ptr<State> state) : state_(std::move(state)) {}
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;
Session::~Session() = default;

Result<Session> Session::connect(const net::Endpoint& endpoint, const SessionOptions& options) {
  auto socket = net::connect_tcp(endpoint, options.timeout);
  if (!socket) return std::unexpected(socket.error());
  auto session = handshake(std::move(*socket), endpoint.host, options);
  if (!session)
    return std::unexpected(Error(session.error()).with_context("https://" + endpoint.str()));
  return session;
}

Result<Session> Session::handshake(Fd socket, const std::string& host,
                                   const SessionOptions& options) {
  auto state = std::make_unique<State>();
  state->socket = std::move(socket);
  state->host = host;
  if (auto r = set_timeouts(state->socket.get(), options.timeout); !r)
    return std::unexpected(r.error());

  state->ctx.reset(SSL_CTX_new(TLS_client_method()));
  SSL_CTX* ctx = state->ctx.get();
  if (ctx == nullptr) return std::unexpected(openssl_error(Errc::system, "SSL_CTX_new"));
  SSL_CTX_set_min_proto_version(ctx, options.allow_tls12 ? TLS1_2_VERSION : TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(ctx, options.allow_tls13 ? TLS1_3_VERSION : TLS1_2_VERSION);
  // No read-ahead: OpenSSL then reads exactly one record at a time, so when the handshake ends
  // the socket still holds every application record for our record layer.
  SSL_CTX_set_read_ahead(ctx, 0);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_keylog_callback(ctx, capture_secret);
  if (!options.tls13_suites.empty() &&
      SSL_CTX_set_ciphersuites(ctx, options.tls13_suites.c_str()) != 1)
    return fail(Errc::usage, "TLS", "no usable TLS 1.3 suite in '" + options.tls13_suites + "'");
  if (!options.insecure) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (options.ca_file.empty() && options.ca_path.empty()) {
      if (SSL_CTX_set_default_verify_paths(ctx) != 1)
        return std::unexpected(openssl_error(Errc::system, "TLS: load the system CA store"));
    } else if (SSL_CTX_load_verify_locations(
                   ctx, options.ca_file.empty() ? nullptr : options.ca_file.c_str(),
                   options.ca_path.empty() ? nullptr : options.ca_path.c_str()) != 1) {
      return std::unexpected(openssl_error(
          Errc::usage,
          "TLS: load CA " + (options.ca_file.empty() ? options.ca_path : options.ca_file),
          "no certificates found"));
    }
  }

  state->ssl.reset(SSL_new(ctx));
  SSL* ssl = state->ssl.get();
  if (ssl == nullptr) return std::unexpected(openssl_error(Errc::system, "SSL_new"));
  SSL_set_ex_data(ssl, 0, &state->secrets);
  SSL_set_quiet_shutdown(ssl, 1);
  if (SSL_set_fd(ssl, state->socket.get()) != 1)
    return std::unexpected(openssl_error(Errc::system, "SSL_set_fd"));
  static constexpr unsigned char kAlpn[] = "\x08http/1.1";
  SSL_set_alpn_protos(ssl, kAlpn, sizeof kAlpn - 1);
  if (is_ip_literal(host)) {
    if (!options.insecure && X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) != 1)
      return std::unexpected(openssl_error(Errc::system, "TLS: check address " + host));
  } else {
    // SSL_set_tlsext_host_name, without the macro's C cast.
    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             const_cast<char*>(host.c_str()));
    if (!options.insecure && SSL_set1_host(ssl, host.c_str()) != 1)
      return std::unexpected(openssl_error(Errc::system, "TLS: check host " + host));
  }

  ERR_clear_error();
  if (SSL_connect(ssl) != 1) {
    const long verified = SSL_get_verify_result(ssl);
    if (verified != X509_V_OK)
      return fail(
          Errc::rejected, "TLS handshake",
          std::string("certificate verify failed: ") + X509_verify_cert_error_string(verified));
    const int error_errno = errno;
    Error e = openssl_error(Errc::rejected, "TLS handshake", "the server closed the connection");
    if (e.detail() == "the server closed the connection" &&
        (error_errno == EAGAIN || error_errno == EWOULDBLOCK))
      return fail(Errc::timeout, "TLS handshake", "no answer within the timeout");
    return std::unexpected(std::move(e));
  }

  auto ktls = probe_ktls();
  state->ktls = ktls ? "kTLS: available, not used yet" : ktls.error().message();

  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
  const auto suite =
      suite_from_iana(static_cast<std::uint16_t>(SSL_CIPHER_get_protocol_id(cipher)));
  if (SSL_version(ssl) != TLS1_3_VERSION) {
    state->why_ssl_read = "TLS 1.2 records go through SSL_read";
  } else if (!suite) {
    state->why_ssl_read = std::string("suite ") + SSL_CIPHER_get_name(cipher) + " is not ours";
  } else if (SSL_has_pending(ssl) != 0) {
    // Never expected without read-ahead; if OpenSSL holds bytes, only it may read them.
    state->why_ssl_read = "OpenSSL holds unread record bytes after the handshake";
  } else if (!state->secrets.client || !state->secrets.server) {
    state->why_ssl_read = "OpenSSL did not report the traffic secrets";
  } else {
    auto layer = RecordLayer::create(state->socket.get(), *suite, *state->secrets.server,
                                     *state->secrets.client);
    if (!layer) return std::unexpected(layer.error());
    state->layer.emplace(std::move(*layer));
  }
  state->secrets = {};
  SSL_set_ex_data(ssl, 0, nullptr);
  return Session(std::move(state));
}

namespace {

// EAGAIN on a socket with a receive timeout: nothing came in time.
template <typename T>
Result<T> with_timeout_named(Result<T> data) {
  if (!data && would_block(data.error().sys_errno()))
    return fail(Errc::timeout, "TLS read", "no data within the timeout");
  return data;
}

}  // namespace

Result<std::span<const std::byte>> Session::read(std::span<std::byte> buffer) {
  State& s = *state_;
  if (s.layer) return with_timeout_named(s.layer->read(buffer));
  return ssl_read(buffer);
}

Result<std::span<const std::byte>> Session::read() {
  State& s = *state_;
  if (s.layer) return with_timeout_named(s.layer->read());
  if (s.buffer.empty()) s.buffer.resize(kReadRoom);
  return ssl_read(s.buffer);
}

Result<std::optional<std::span<const std::byte>>> Session::read_waiting() {
  State& s = *state_;
  // SSL_read opens every record into the same buffer: a second one would overwrite the first.
  if (!s.layer) return std::nullopt;
  return s.layer->read_waiting();
}

bool Session::record_waiting() const noexcept {
  return state_->layer && state_->layer->record_waiting();
}

Result<std::span<const std::byte>> Session::ssl_read(std::span<std::byte> buffer) {
  State& s = *state_;
  if (s.closed) return std::span<const std::byte>{};
  const int size = static_cast<int>(std::min<std::size_t>(buffer.size(), 1 << 30));
  ERR_clear_error();
  const int n = SSL_read(s.ssl.get(), buffer.data(), size);
  if (n > 0) return std::span<const std::byte>(buffer.first(static_cast<std::size_t>(n)));
  const int reason = SSL_get_error(s.ssl.get(), n);
  if (reason == SSL_ERROR_ZERO_RETURN) {
    s.closed = true;
    return std::span<const std::byte>{};
  }
  if (reason == SSL_ERROR_WANT_READ || (reason == SSL_ERROR_SYSCALL && errno == EAGAIN))
    return fail(Errc::timeout, "TLS read", "no data within the timeout");
  if (reason == SSL_ERROR_SSL &&
      ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
    ERR_clear_error();
    return fail(Errc::corrupt, "TLS read",
                "peer closed the connection without close_notify (the data may be truncated)");
  }
  return std::unexpected(openssl_error(Errc::rejected, "TLS read (SSL_read)",
                                       "peer closed the connection without close_notify"));
}

Result<void> Session::write(std::span<const std::byte> data) {
  State& s = *state_;
  if (s.layer) return s.layer->write(data);
  while (!data.empty()) {
    const int size = static_cast<int>(std::min<std::size_t>(data.size(), 1 << 30));
    ERR_clear_error();
    const int n = SSL_write(s.ssl.get(), data.data(), size);
    if (n <= 0) return std::unexpected(openssl_error(Errc::system, "TLS write (SSL_write)"));
    data = data.subspan(static_cast<std::size_t>(n));
  }
  return {};
}

Result<void> Session::update_keys(bool ask_peer) {
  State& s = *state_;
  if (s.layer) return s.layer->update_write_keys(ask_peer);
  if (SSL_key_update(s.ssl.get(),
                     ask_peer ? SSL_KEY_UPDATE_REQUESTED : SSL_KEY_UPDATE_NOT_REQUESTED) != 1)
    return std::unexpected(openssl_error(Errc::invalid_argument, "TLS KeyUpdate"));
  return {};
}

Result<void> Session::close() {
  State& s = *state_;
  if (s.layer) return s.layer->close();
  SSL_set_quiet_shutdown(s.ssl.get(), 0);
  if (SSL_shutdown(s.ssl.get()) < 0)
    return std::unexpected(openssl_error(Errc::system, "TLS close (SSL_shutdown)"));
  return {};
}

ReadPath Session::path() const noexcept {
  return state_->layer ? ReadPath::record_layer : ReadPath::ssl_read;
}

std::string Session::describe() const {
  const State& s = *state_;
  std::string text = SSL_get_version(s.ssl.get());
  text += " ";
  text += SSL_CIPHER_get_name(SSL_get_current_cipher(s.ssl.get()));
  if (s.layer)
    text += ", records opened in place after their tag verifies";
  else
    text += ", SSL_read (one more copy): " + s.why_ssl_read;
  text += " (" + s.ktls + ")";
  return text;
}

std::string Session::alpn() const {
  return selected_alpn(state_->ssl.get());
}

int Session::fd() const noexcept {
  return state_->socket.get();
}

std::uint64_t Session::key_updates_received() const noexcept {
  return state_->layer ? state_->layer->key_updates_received() : 0;
}

std::uint64_t Session::key_updates_sent() const noexcept {
  return state_->layer ? state_->layer->writer().cipher().generation() : 0;
}

void Session::account_read(TransferLedger& ledger, std::uint64_t bytes) const {
  ledger.bytes += bytes;
  ledger.bytes_copied_kernel += bytes;                    // recv: socket buffers into user memory
  ledger.bytes_ciphered += bytes;                         // opened, in place or by OpenSSL
  if (!state_->layer) ledger.bytes_copied_user += bytes;  // SSL_read: its buffer into ours
}

}  // namespace zc::secure
