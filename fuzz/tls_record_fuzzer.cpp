// Feeds a TLS 1.3 record stream of arbitrary bytes to the record layer a client runs after the
// handshake: header checks, the receive into the caller's buffer, tag verification, the inner
// plaintext's type and padding, post-handshake messages (tickets, KeyUpdate) and alerts.
// The first input byte picks the mode: raw bytes go to the wire as they are (headers and tags
// under attack), otherwise the rest is cut into inner plaintexts (2-byte length, then the bytes)
// that the fuzzer seals with the peer's key first, so the parsers behind the tag are reached.
// The second bit reads as a server does: a non-blocking socket fed the wire in pieces (sizes
// from the wire's own bytes), read until EAGAIN after each piece, a close without close_notify
// taken as the end; a record then arrives across many calls and must come out the same.
// The third bit reads ahead (read() and read_waiting(), as a download does): many records per
// read, and every view gathered must keep its bytes until the socket is read again.
// Nothing may crash; every view `read(buffer)` returns must lie inside that buffer, and an
// error must say something.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "zcopy/secure/record_layer.hpp"

namespace {

using namespace zc::secure;

constexpr auto kSuite = CipherSuite::aes_128_gcm_sha256;

Secret secret_of(std::uint8_t fill) {
  std::vector<std::uint8_t> bytes(32, fill);
  return *Secret::from(bytes);
}

std::vector<std::uint8_t> seal_all(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> wire;
  auto cipher = RecordCipher::create(kSuite, secret_of(1));
  if (!cipher) std::abort();
  while (size >= 2) {
    std::size_t length = (std::size_t{data[0]} << 8 | data[1]) % (kMaxPlaintext + 64);
    data += 2;
    size -= 2;
    length = std::min(length, size);
    const std::size_t at = wire.size();
    const auto header = protected_header(length + kTagSize);
    wire.resize(at + kRecordHeaderSize + length + kTagSize);
    std::memcpy(wire.data() + at, header.data(), header.size());
    if (length > 0) std::memcpy(wire.data() + at + kRecordHeaderSize, data, length);
    std::span<std::uint8_t> inner(wire.data() + at + kRecordHeaderSize, length);
    std::span<std::uint8_t, kTagSize> tag(inner.data() + length, kTagSize);
    // A length the sender may not seal (over the record limit) is refused, not a fault: the
    // wire then ends with the records before it.
    if (!cipher->seal(header, inner, tag)) {
      wire.resize(at);
      break;
    }
    data += length;
    size -= length;
  }
  return wire;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || size > 60000) return 0;
  const bool raw = (data[0] & 1) != 0;
  const bool trickle = (data[0] & 2) != 0;
  const bool ahead = (data[0] & 4) != 0;
  std::vector<std::uint8_t> wire =
      raw ? std::vector<std::uint8_t>(data + 1, data + size) : seal_all(data + 1, size - 1);

  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) std::abort();
  int buffer_size = 1 << 20;
  ::setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &buffer_size, sizeof buffer_size);
  ::setsockopt(fds[0], SOL_SOCKET, SO_RCVBUF, &buffer_size, sizeof buffer_size);
  auto layer = RecordLayer::create(fds[0], kSuite, secret_of(1), secret_of(2));
  if (!layer) std::abort();
  std::vector<std::byte> buffer(kMaxCiphertext);
  // Read ahead, the views of records already received are gathered as a download gathers them;
  // each must still hold its bytes when the socket has to be read again.
  auto gather_waiting = [&](std::span<const std::byte> first) {
    std::vector<std::pair<std::span<const std::byte>, std::vector<std::byte>>> views;
    views.emplace_back(first, std::vector<std::byte>(first.begin(), first.end()));
    bool more = true;
    for (;;) {
      auto next = layer->read_waiting();
      if (!next && next.error().message().empty()) std::abort();
      if (!next || !*next) break;
      if ((*next)->empty()) {
        more = false;
        break;
      }
      views.emplace_back(**next, std::vector<std::byte>((*next)->begin(), (*next)->end()));
    }
    for (const auto& [view, copy] : views)
      if (!std::equal(view.begin(), view.end(), copy.begin(), copy.end())) std::abort();
    return more;
  };
  // Reads until the stream ends or errs (false), or, non-blocking, until EAGAIN (true).
  auto read_all = [&]() {
    for (;;) {
      auto read = ahead ? layer->read() : layer->read(buffer);
      if (!read) {
        if (read.error().message().empty()) std::abort();
        return read.error().sys_errno() == EAGAIN;
      }
      if (read->empty()) return false;
      if (ahead) {
        if (!gather_waiting(*read)) return false;
        continue;
      }
      if (read->data() < buffer.data() ||
          read->data() + read->size() > buffer.data() + buffer.size())
        std::abort();
    }
  };
  if (trickle) {
    if (::fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0) std::abort();
    layer->accept_eof_as_end();
    bool open = true;
    for (std::size_t at = 0; open && at < wire.size();) {
      const std::size_t piece = std::min<std::size_t>(wire.size() - at, 1 + wire[at] % 97);
      if (::send(fds[1], wire.data() + at, piece, MSG_NOSIGNAL) != static_cast<ssize_t>(piece))
        std::abort();
      at += piece;
      open = read_all();
    }
    ::shutdown(fds[1], SHUT_WR);
    if (open) {
      ::fcntl(fds[0], F_SETFL, 0);
      read_all();
    }
  } else {
    if (!wire.empty() &&
        ::send(fds[1], wire.data(), wire.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(wire.size()))
      std::abort();
    ::shutdown(fds[1], SHUT_WR);
    read_all();
  }
  ::close(fds[0]);
  ::close(fds[1]);
  return 0;
}
