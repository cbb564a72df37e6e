// zcopy/secure/record_layer.hpp: a TLS 1.3 connection's application data after the handshake,
// run by us: records received into the caller's buffer, opened in place, revealed once verified.
//
// Given the socket and the two application traffic secrets a handshake produced, `read` returns
// the next application data as a view of `buffer`, where the record arrived and was decrypted;
// the view exists only after the record's tag verified. Everything else a peer may send after the
// handshake is handled on the way: NewSessionTicket (ignored: we do not resume), KeyUpdate (read
// keys move on; when the peer asks, ours move on too after we answer), close_notify (the end:
// an empty view) and other alerts (an error naming them). A record that fails its tag, arrives
// out of order, is cut short or exceeds 2^14 + 256 bytes ends the connection with an error, and
// nothing of it is returned.
//
//   auto layer = RecordLayer::create(fd, suite, server_secret, client_secret);
//   layer->write(as_bytes(request));
//   for (;;) {
//     auto data = layer->read(buffer);        // buffer.size() >= kMaxCiphertext
//     if (!data) return data.error();
//     if (data->empty()) break;              // close_notify
//     consume(*data);
//   }
//
// The layer borrows the descriptor (blocking). Not thread-safe: one thread drives it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "zcopy/core/error.hpp"
#include "zcopy/secure/buffered_record_reader.hpp"
#include "zcopy/secure/record_reader.hpp"
#include "zcopy/secure/record_writer.hpp"

namespace zc::secure {

class RecordLayer {
 public:
  // `read_secret` is the peer's application traffic secret, `write_secret` ours.
  static Result<RecordLayer> create(int fd, CipherSuite suite, const Secret& read_secret,
                                    const Secret& write_secret);

  // The next non-empty application data, in place at the start of `buffer`; empty once the
  // peer sent close_notify. `buffer` must hold the record (any record fits in kMaxCiphertext).
  // One record per call: nothing is read ahead of it.
  Result<std::span<const std::byte>> read(std::span<std::byte> buffer);

  // The same, read ahead into the layer's own buffer: one system call brings in what the socket
  // holds, many records at once, and each is opened in place where it arrived. The view stays
  // valid until a read() that had to read the socket (one made while record_waiting() is false).
  // A connection is read either this way or with read(buffer), not both.
  Result<std::span<const std::byte>> read();
  // As read(), from whole records already received only: std::nullopt when the next would have
  // to be read from the socket. Never reads, so every view handed out earlier stays valid.
  Result<std::optional<std::span<const std::byte>>> read_waiting();
  // Whether read() would find a whole record already received.
  bool record_waiting() const noexcept { return ahead_.record_waiting(); }

  // Sends `data` as application data records.
  Result<void> write(std::span<const std::byte> data) { return writer_.write(data); }
  // Sends a KeyUpdate and moves our write keys on; `ask_peer` asks the peer to do the same.
  Result<void> update_write_keys(bool ask_peer);
  // Sends close_notify.
  Result<void> close();

  // A server reading requests: a client that closes between records without close_notify has
  // ended (it sent its last request), not cut anything short, so read() returns empty then too.
  void accept_eof_as_end() noexcept { eof_is_end_ = true; }

  RecordWriter& writer() noexcept { return writer_; }
  const RecordWriter& writer() const noexcept { return writer_; }
  const RecordCipher& read_cipher() const noexcept { return read_cipher_; }
  // Inner plaintext bytes the cipher opened (content, type and padding of every record).
  std::uint64_t bytes_opened() const noexcept { return bytes_opened_; }
  std::uint64_t bytes_received() const noexcept {
    return reader_.bytes_received() + ahead_.bytes_received();
  }
  std::uint64_t key_updates_received() const noexcept { return read_cipher_.generation(); }

 private:
  RecordLayer(int fd, RecordCipher read_cipher, RecordWriter writer)
      : reader_(fd), ahead_(fd), read_cipher_(std::move(read_cipher)), writer_(std::move(writer)) {}
  // Opens records from `receive` (which yields std::nullopt when it may not read) until one
  // carries application data or the peer closed.
  template <typename Receive>
  Result<std::optional<std::span<const std::byte>>> read_records(Receive&& receive);
  Result<void> take_handshake(std::span<const std::byte> content);

  RecordReader reader_;
  BufferedRecordReader ahead_;
  RecordCipher read_cipher_;
  RecordWriter writer_;
  std::vector<std::uint8_t> handshake_;  // a post-handshake message not yet complete
  bool closed_ = false;
  bool eof_is_end_ = false;
  std::uint64_t bytes_opened_ = 0;
};

}  // namespace zc::secure
