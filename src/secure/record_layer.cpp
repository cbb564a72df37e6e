#include "zcopy/secure/record_layer.hpp"

#include <openssl/ssl.h>

#include <string>

namespace zc::secure {

namespace {

constexpr std::uint8_t kNewSessionTicket = 4;
constexpr std::uint8_t kKeyUpdate = 24;
constexpr std::size_t kHandshakeHeaderSize = 4;
// Post-handshake messages are small (tickets of a few hundred bytes); a bound keeps a hostile
// peer from growing our buffer without end.
constexpr std::size_t kMaxPostHandshakeMessage = 64 * 1024;

}  // namespace

Result<RecordLayer> RecordLayer::create(int fd, CipherSuite suite, const Secret& read_secret,
                                        const Secret& write_secret) {
  auto read_cipher = RecordCipher::create(suite, read_secret);
  if (!read_cipher) return std::unexpected(read_cipher.error());
  auto write_cipher = RecordCipher::create(suite, write_secret);
  if (!write_cipher) return std::unexpected(write_cipher.error());
  auto writer = RecordWriter::create(fd, std::move(*write_cipher));
  if (!writer) return std::unexpected(writer.error());
  return RecordLayer(fd, std::move(*read_cipher), std::move(*writer));
}

Result<std::span<const std::byte>> RecordLayer::read(std::span<std::byte> buffer) {
  if (ahead_.holds_bytes())
    return fail(Errc::invalid_argument, "TLS read",
                "records already received ahead must be read with read()");
  auto data = read_records([&]() -> Result<std::optional<UnverifiedRecord>> {
    auto sealed = reader_.receive(buffer);
    if (!sealed) return std::unexpected(sealed.error());
    return std::move(*sealed);
  });
  if (!data) return std::unexpected(data.error());
  return **data;
}

Result<std::span<const std::byte>> RecordLayer::read() {
  auto data = read_records([&]() -> Result<std::optional<UnverifiedRecord>> {
    auto sealed = ahead_.receive();
    if (!sealed) return std::unexpected(sealed.error());
    return std::move(*sealed);
  });
  if (!data) return std::unexpected(data.error());
  return **data;
}

Result<std::optional<std::span<const std::byte>>> RecordLayer::read_waiting() {
  return read_records([&]() -> Result<std::optional<UnverifiedRecord>> {
    if (!ahead_.record_waiting()) return std::nullopt;
    auto sealed = ahead_.receive();
    if (!sealed) return std::unexpected(sealed.error());
    return std::move(*sealed);
  });
}

template <typename Receive>
Result<std::optional<std::span<const std::byte>>> RecordLayer::read_records(Receive&& receive) {
  while (!closed_) {
    auto sealed = receive();
    if (!sealed) {
      if (sealed.error().code() == Errc::closed && eof_is_end_) {
        closed_ = true;
        break;
      }
      if (sealed.error().code() == Errc::closed)
        return fail(Errc::corrupt, "TLS read",
                    "peer closed the connection without close_notify (the data may be truncated)");
      return std::unexpected(sealed.error());
    }
    if (!*sealed) return std::nullopt;  // nothing waiting, and reading was not allowed
    const std::size_t wire = (*sealed)->wire_size();
    auto record = std::move(**sealed).open(read_cipher_);
    if (!record) return std::unexpected(record.error());
    bytes_opened_ += wire - kTagSize;
    switch (record->type()) {
      case ContentType::application_data:
        if (!handshake_.empty())
          return fail(Errc::corrupt, "TLS read",
                      "application data inside a fragmented handshake message");
        if (record->content().empty()) continue;  // allowed, and carries nothing
        return record->content();
      case ContentType::handshake:
        if (record->content().empty())
          return fail(Errc::corrupt, "TLS read", "empty handshake record");
        if (auto taken = take_handshake(record->content()); !taken)
          return std::unexpected(taken.error());
        continue;
      case ContentType::alert: {
        auto alert = record->content();
        if (alert.size() != 2 || !handshake_.empty())
          return fail(Errc::corrupt, "TLS read", "malformed alert record");
        const auto description = static_cast<std::uint8_t>(alert[1]);
        if (description == 0) {  // close_notify
          closed_ = true;
          break;
        }
        return fail(Errc::rejected, "TLS read",
                    std::string("peer sent alert: ") + SSL_alert_desc_string_long(description));
      }
      default:
        return fail(Errc::corrupt, "TLS read",
                    "unexpected record content type " +
                        std::to_string(static_cast<unsigned>(record->type())));
    }
  }
  return std::span<const std::byte>{};
}

Result<void> RecordLayer::take_handshake(std::span<const std::byte> content) {
  if (handshake_.size() + content.size() > kMaxPostHandshakeMessage)
    return fail(Errc::corrupt, "TLS read", "post-handshake message over 64 KiB");
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(content.data());
  handshake_.insert(handshake_.end(), bytes, bytes + content.size());
  std::size_t at = 0;
  while (handshake_.size() - at >= kHandshakeHeaderSize) {
    const std::uint8_t type = handshake_[at];
    const std::size_t length = (std::size_t{handshake_[at + 1]} << 16) |
                               (std::size_t{handshake_[at + 2]} << 8) | handshake_[at + 3];
    if (length > kMaxPostHandshakeMessage)
      return fail(Errc::corrupt, "TLS read", "post-handshake message over 64 KiB");
    if (handshake_.size() - at - kHandshakeHeaderSize < length) break;
    const std::uint8_t* body = handshake_.data() + at + kHandshakeHeaderSize;
    at += kHandshakeHeaderSize + length;
    if (type == kNewSessionTicket) continue;  // we never resume, so tickets are dropped
    if (type != kKeyUpdate)
      return fail(Errc::corrupt, "TLS read",
                  "unexpected handshake message " + std::to_string(type) + " after the handshake");
    if (length != 1 || body[0] > 1) return fail(Errc::corrupt, "TLS read", "malformed KeyUpdate");
    // RFC 8446 §5.1: a key change ends the record; more bytes after it were under the old key.
    if (at != handshake_.size())
      return fail(Errc::corrupt, "TLS read", "KeyUpdate not at the end of its record");
    const bool asked = body[0] == 1;
    if (auto updated = read_cipher_.update_keys(); !updated) return updated;
    if (asked) {
      if (auto answered = update_write_keys(false); !answered) return answered;
    }
  }
  handshake_.erase(handshake_.begin(), handshake_.begin() + static_cast<std::ptrdiff_t>(at));
  return {};
}

Result<void> RecordLayer::update_write_keys(bool ask_peer) {
  const std::byte message[] = {std::byte{kKeyUpdate}, std::byte{0}, std::byte{0}, std::byte{1},
                               std::byte{ask_peer ? std::uint8_t{1} : std::uint8_t{0}}};
  if (auto sent = writer_.write(message, ContentType::handshake); !sent) return sent;
  return writer_.update_keys();
}

Result<void> RecordLayer::close() {
  const std::byte close_notify[] = {std::byte{1}, std::byte{0}};
  return writer_.write(close_notify, ContentType::alert);
}

}  // namespace zc::secure
