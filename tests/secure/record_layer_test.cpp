#include "zcopy/secure/record_layer.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "secure/rfc8448_vectors.hpp"
#include "secure/tls_peer_support.hpp"
#include "zcopy/core/fd.hpp"

namespace zc::secure {
namespace {

using test::rfc8448::hex;
namespace v = test::rfc8448;

constexpr auto kSuite = CipherSuite::aes_128_gcm_sha256;
const Secret kServerSecret = *Secret::from(hex(v::kServerApplicationTraffic));
const Secret kClientSecret = *Secret::from(hex(v::kClientApplicationTraffic));

struct Pair {
  Fd client, server;
};

Pair socket_pair() {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  return {Fd::adopt(fds[0]), Fd::adopt(fds[1])};
}

void send_all(int fd, std::span<const std::uint8_t> bytes) {
  ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(bytes.size()));
}

std::span<const std::byte> as_bytes(const std::string& text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

std::string text_of(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// A record of any inner plaintext (content, type, padding) sealed by `cipher`.
std::vector<std::uint8_t> raw_record(RecordCipher& cipher, std::vector<std::uint8_t> inner) {
  auto header = protected_header(inner.size() + kTagSize);
  std::vector<std::uint8_t> record(kRecordHeaderSize + inner.size() + kTagSize);
  std::memcpy(record.data(), header.data(), header.size());
  std::memcpy(record.data() + kRecordHeaderSize, inner.data(), inner.size());
  std::span<std::uint8_t> in_out(record.data() + kRecordHeaderSize, inner.size());
  EXPECT_TRUE(cipher.seal(
      header, in_out, std::span<std::uint8_t, kTagSize>(in_out.data() + in_out.size(), kTagSize)));
  return record;
}

struct Endpoints {
  Pair fds = socket_pair();
  RecordLayer client = *RecordLayer::create(fds.client.get(), kSuite, kServerSecret, kClientSecret);
  RecordLayer server = *RecordLayer::create(fds.server.get(), kSuite, kClientSecret, kServerSecret);
};

TEST(RecordLayer, ReadsRfc8448ServerRecordsFromASocketUpToCloseNotify) {
  Pair fds = socket_pair();
  for (auto record : {v::kServerTicketRecord, v::kServerApplicationRecord, v::kServerAlertRecord})
    send_all(fds.server.get(), hex(record));
  auto layer = RecordLayer::create(fds.client.get(), kSuite, kServerSecret, kClientSecret);
  ASSERT_TRUE(layer) << layer.error().message();
  std::vector<std::byte> buffer(kMaxCiphertext);
  auto data = layer->read(buffer);
  ASSERT_TRUE(data) << data.error().message();
  ASSERT_EQ(data->size(), 50u);
  EXPECT_EQ(data->data(), buffer.data());  // decrypted where it arrived
  for (std::size_t i = 0; i < 50; ++i) EXPECT_EQ(std::to_integer<std::size_t>((*data)[i]), i);
  auto end = layer->read(buffer);
  ASSERT_TRUE(end) << end.error().message();
  EXPECT_TRUE(end->empty());
}

TEST(RecordLayer, ApplicationDataRoundTripsBetweenTwoLayers) {
  Endpoints e;
  const std::string big(100000, 'x');
  ASSERT_TRUE(e.server.write(as_bytes("hello")));
  ASSERT_TRUE(e.server.write(as_bytes(big.substr(0, 40000))));
  ASSERT_TRUE(e.server.close());
  std::vector<std::byte> buffer(kMaxCiphertext);
  std::string got;
  for (;;) {
    auto data = e.client.read(buffer);
    ASSERT_TRUE(data) << data.error().message();
    if (data->empty()) break;
    got += text_of(*data);
  }
  EXPECT_EQ(got, "hello" + big.substr(0, 40000));
}

TEST(RecordLayer, ARecordTrickledIntoANonBlockingSocketIsReadOnceItIsWhole) {
  Pair fds = socket_pair();
  ASSERT_EQ(::fcntl(fds.client.get(), F_SETFL, O_NONBLOCK), 0);
  auto layer = RecordLayer::create(fds.client.get(), kSuite, kServerSecret, kClientSecret);
  ASSERT_TRUE(layer) << layer.error().message();
  const auto record = hex(v::kServerApplicationRecord);
  std::vector<std::byte> buffer(kMaxCiphertext);
  send_all(fds.server.get(), hex(v::kServerTicketRecord));  // the record before it (skipped)
  // Byte by byte, header and body: each read before the record is whole says "again".
  for (std::size_t i = 0; i + 1 < record.size(); ++i) {
    send_all(fds.server.get(), std::span(record).subspan(i, 1));
    auto early = layer->read(buffer);
    ASSERT_FALSE(early) << "byte " << i;
    ASSERT_EQ(early.error().sys_errno(), EAGAIN) << early.error().message();
  }
  send_all(fds.server.get(), std::span(record).last(1));
  auto data = layer->read(buffer);
  ASSERT_TRUE(data) << data.error().message();
  ASSERT_EQ(data->size(), 50u);
  for (std::size_t i = 0; i < 50; ++i) EXPECT_EQ(std::to_integer<std::size_t>((*data)[i]), i);
}

TEST(RecordLayer, TamperedRecordIsRefusedWipedAndTheRecordsBeforeItStand) {
  Pair fds = socket_pair();
  auto sealer = *RecordCipher::create(kSuite, kServerSecret);
  auto first = raw_record(sealer, {'o', 'k', 23});
  auto second = raw_record(sealer, {'s', 'e', 'c', 'r', 'e', 't', 23});
  second[8] ^= 0x04;
  send_all(fds.server.get(), first);
  send_all(fds.server.get(), second);
  auto layer = *RecordLayer::create(fds.client.get(), kSuite, kServerSecret, kClientSecret);
  std::vector<std::byte> buffer(kMaxCiphertext, std::byte{0x55});
  auto data = layer.read(buffer);
  ASSERT_TRUE(data);
  EXPECT_EQ(text_of(*data), "ok");
  auto bad = layer.read(std::span(buffer).subspan(2));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("authentication tag"), std::string::npos);
  EXPECT_EQ(text_of(std::span(buffer).first(2)), "ok");
  for (std::size_t i = 2; i < 2 + second.size() - kRecordHeaderSize; ++i)
    ASSERT_EQ(buffer[i], std::byte{0}) << i;
}

TEST(RecordLayer, ReplayedRecordFailsItsTag) {
  Pair fds = socket_pair();
  auto sealer = *RecordCipher::create(kSuite, kServerSecret);
  auto record = raw_record(sealer, {'a', 23});
  send_all(fds.server.get(), record);
  send_all(fds.server.get(), record);
  auto layer = *RecordLayer::create(fds.client.get(), kSuite, kServerSecret, kClientSecret);
  std::vector<std::byte> buffer(kMaxCiphertext);
  ASSERT_TRUE(layer.read(buffer));
  EXPECT_FALSE(layer.read(buffer));
}

TEST(RecordLayer, OversizedRecordIsRefusedFromItsHeaderAlone) {
  Pair fds = socket_pair();
  auto header = protected_header(kMaxCiphertext + 1);
  send_all(fds.server.get(), header);  // no body follows: reading one would block forever
  auto layer = *RecordLayer::create(fds.client.get(), kSuite, kServerSecret, kClientSecret);
  std::vector<std::byte> buffer(2 * kMaxCiphertext);
  auto data = layer.read(buffer);
  ASSERT_FALSE(data);
  EXPECT_NE(data.error().message().find("exceeds the limit of 16640"), std::string::npos)
      << data.error().message();
}

TEST(RecordLayer, TruncatedRecordAndMissingCloseNotifyAreErrors) {
  {
    Pair fds = socket_pair();
    auto record = hex(v::kServerTicketRecord);
    send_all(fds.server.get(), std::span(record).first(100));
    fds.server = Fd();
    auto layer = *RecordLayer::create(fds.client.get(), kSuite, kServerSecret, kClientSecret);
    std::vector<std::byte> buffer(kMaxCiphertext);
    auto data = layer.read(buffer);
    ASSERT_FALSE(data);
    EXPECT_NE(data.error().message().find("truncated record"), std::string::npos);
  }
  {
    Pair fds = socket_pair();
    fds.server = Fd();
    auto layer = *RecordLayer::create(fds.client.get(), kSuite, kServerSecret, kClientSecret);
    std::vector<std::byte> buffer(kMaxCiphertext);
    auto data = layer.read(buffer);
    ASSERT_FALSE(data);
    EXPECT_NE(data.error().message().find("without close_notify"), std::string::npos);
  }
}

TEST(RecordLayer, PaddingIsStrippedAndAllZeroPlaintextRefused) {
  Pair fds = socket_pair();
  auto sealer = *RecordCipher::create(kSuite, kServerSecret);
  send_all(fds.server.get(), raw_record(sealer, {'p', 'a', 'd', 23, 0, 0, 0, 0, 0}));
  send_all(fds.server.get(), raw_record(sealer, {0, 0, 0}));
  auto layer = *RecordLayer::create(fds.client.get(), kSuite, kServerSecret, kClientSecret);
  std::vector<std::byte> buffer(kMaxCiphertext);
  auto data = layer.read(buffer);
  ASSERT_TRUE(data);
  EXPECT_EQ(text_of(*data), "pad");
  auto bad = layer.read(buffer);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("all padding"), std::string::npos);
}

TEST(RecordLayer, AlertOtherThanCloseNotifyIsNamed) {
  Pair fds = socket_pair();
  auto sealer = *RecordCipher::create(kSuite, kServerSecret);
  send_all(fds.server.get(), raw_record(sealer, {2, 80, 21}));  // fatal internal_error
  auto layer = *RecordLayer::create(fds.client.get(), kSuite, kServerSecret, kClientSecret);
  std::vector<std::byte> buffer(kMaxCiphertext);
  auto data = layer.read(buffer);
  ASSERT_FALSE(data);
  EXPECT_NE(data.error().message().find("internal error"), std::string::npos)
      << data.error().message();
}

TEST(RecordLayer, UnexpectedHandshakeMessageAfterTheHandshakeIsRefused) {
  Pair fds = socket_pair();
  auto sealer = *RecordCipher::create(kSuite, kServerSecret);
  send_all(fds.server.get(), raw_record(sealer, {13, 0, 0, 0, 22}));  // CertificateRequest
  auto layer = *RecordLayer::create(fds.client.get(), kSuite, kServerSecret, kClientSecret);
  std::vector<std::byte> buffer(kMaxCiphertext);
  EXPECT_FALSE(layer.read(buffer));
}

TEST(RecordLayer, FragmentedTicketsAreSkipped) {
  Pair fds = socket_pair();
  auto sealer = *RecordCipher::create(kSuite, kServerSecret);
  // A NewSessionTicket of 6 body bytes split over two records, then data.
  send_all(fds.server.get(), raw_record(sealer, {4, 0, 0, 6, 1, 2, 22}));
  send_all(fds.server.get(), raw_record(sealer, {3, 4, 5, 6, 22}));
  send_all(fds.server.get(), raw_record(sealer, {'d', 23}));
  auto layer = *RecordLayer::create(fds.client.get(), kSuite, kServerSecret, kClientSecret);
  std::vector<std::byte> buffer(kMaxCiphertext);
  auto data = layer.read(buffer);
  ASSERT_TRUE(data) << data.error().message();
  EXPECT_EQ(text_of(*data), "d");
}

TEST(RecordLayer, KeyUpdateFromThePeerIsFollowedAndAnsweredWhenAsked) {
  Endpoints e;
  std::vector<std::byte> buffer(kMaxCiphertext);
  // Unrequested: only the server's direction moves on.
  ASSERT_TRUE(e.server.update_write_keys(false));
  ASSERT_TRUE(e.server.write(as_bytes("after one")));
  auto data = e.client.read(buffer);
  ASSERT_TRUE(data) << data.error().message();
  EXPECT_EQ(text_of(*data), "after one");
  EXPECT_EQ(e.client.key_updates_received(), 1u);
  EXPECT_EQ(e.client.writer().cipher().generation(), 0u);

  // Requested: the client answers with its own KeyUpdate before its next data.
  ASSERT_TRUE(e.server.update_write_keys(true));
  ASSERT_TRUE(e.server.write(as_bytes("after two")));
  data = e.client.read(buffer);
  ASSERT_TRUE(data) << data.error().message();
  EXPECT_EQ(text_of(*data), "after two");
  EXPECT_EQ(e.client.writer().cipher().generation(), 1u);
  ASSERT_TRUE(e.client.write(as_bytes("reply")));
  data = e.server.read(buffer);
  ASSERT_TRUE(data) << data.error().message();
  EXPECT_EQ(text_of(*data), "reply");
  EXPECT_EQ(e.server.key_updates_received(), 1u);
}

TEST(RecordLayer, KeyUpdateFollowedByMoreBytesInItsRecordIsRefused) {
  Pair fds = socket_pair();
  auto sealer = *RecordCipher::create(kSuite, kServerSecret);
  send_all(fds.server.get(), raw_record(sealer, {24, 0, 0, 1, 0, 4, 0, 0, 0, 22}));
  auto layer = *RecordLayer::create(fds.client.get(), kSuite, kServerSecret, kClientSecret);
  std::vector<std::byte> buffer(kMaxCiphertext);
  auto data = layer.read(buffer);
  ASSERT_FALSE(data);
  EXPECT_NE(data.error().message().find("end of its record"), std::string::npos);
}

TEST(RecordLayer, SequenceNumbersRunPastTwoToTheSeventeenInWriterAndReader) {
  // 2^17 + 1000 one-byte records: the sequence number carries into its third byte.
  constexpr std::size_t kRecords = (std::size_t{1} << 17) + 1000;
  Endpoints e;
  std::thread sender([&] {
    for (std::size_t i = 0; i < kRecords; ++i) {
      const char byte = static_cast<char>('a' + i % 26);
      if (!e.server.write(std::as_bytes(std::span(&byte, 1)))) return;
    }
  });
  std::vector<std::byte> buffer(kMaxCiphertext);
  std::size_t received = 0;
  for (; received < kRecords; ++received) {
    auto data = e.client.read(buffer);
    ASSERT_TRUE(data) << "record " << received << ": " << data.error().message();
    ASSERT_EQ(data->size(), 1u);
    ASSERT_EQ(static_cast<char>((*data)[0]), static_cast<char>('a' + received % 26));
  }
  sender.join();
  EXPECT_EQ(e.client.read_cipher().sequence(), kRecords);
  EXPECT_EQ(e.server.writer().cipher().sequence(), kRecords);
}

TEST(RecordLayer, BufferTooSmallForTheRecordIsALimitError) {
  Endpoints e;
  ASSERT_TRUE(e.server.write(as_bytes(std::string(1000, 'y'))));
  std::vector<std::byte> buffer(100);
  auto data = e.client.read(buffer);
  ASSERT_FALSE(data);
  EXPECT_EQ(data.error().code(), Errc::limit_exceeded);
}

std::vector<std::uint8_t> inner_of(const std::string& content) {
  std::vector<std::uint8_t> inner(content.begin(), content.end());
  inner.push_back(23);
  return inner;
}

TEST(RecordLayer, RecordsReadAheadArriveWithOneReadAndStayValidWhileGathered) {
  Pair fds = socket_pair();
  auto sealer = *RecordCipher::create(kSuite, kServerSecret);
  std::size_t wire = 0;
  std::string expected;
  for (char c = 'a'; c < 'k'; ++c) {
    const std::string content(1000 + static_cast<std::size_t>(c), c);
    auto record = raw_record(sealer, inner_of(content));
    wire += record.size();
    send_all(fds.server.get(), record);
    expected += content;
  }
  auto layer = *RecordLayer::create(fds.client.get(), kSuite, kServerSecret, kClientSecret);
  auto first = layer.read();
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(layer.bytes_received(), wire);  // the ten records came in with one read
  std::vector<std::span<const std::byte>> views{*first};
  while (layer.record_waiting()) {
    auto next = layer.read_waiting();
    ASSERT_TRUE(next) << next.error().message();
    ASSERT_TRUE(*next);
    views.push_back(**next);
  }
  auto none = layer.read_waiting();
  ASSERT_TRUE(none) << none.error().message();
  EXPECT_FALSE(*none);  // the next one would need the socket: not read
  EXPECT_EQ(views.size(), 10u);
  std::string got;
  for (auto view : views) got += text_of(view);
  EXPECT_EQ(got, expected);
}

TEST(RecordLayer, ATamperedRecordReadAheadIsWipedAndTheRecordsGatheredBeforeItStand) {
  Pair fds = socket_pair();
  auto sealer = *RecordCipher::create(kSuite, kServerSecret);
  send_all(fds.server.get(), raw_record(sealer, inner_of("first")));
  send_all(fds.server.get(), raw_record(sealer, inner_of("second")));
  auto bad = raw_record(sealer, inner_of("secret"));
  bad[7] ^= 0x01;
  send_all(fds.server.get(), bad);
  auto layer = *RecordLayer::create(fds.client.get(), kSuite, kServerSecret, kClientSecret);
  auto first = layer.read();
  ASSERT_TRUE(first) << first.error().message();
  auto second = layer.read_waiting();
  ASSERT_TRUE(second && *second);
  auto third = layer.read_waiting();
  ASSERT_FALSE(third);
  EXPECT_NE(third.error().message().find("authentication tag"), std::string::npos);
  EXPECT_EQ(text_of(*first), "first");
  EXPECT_EQ(text_of(**second), "second");
  // The bad record's body lay right after the second record (its type byte, tag and header).
  const std::byte* body = (*second)->data() + (*second)->size() + 1 + kTagSize + kRecordHeaderSize;
  for (std::size_t i = 0; i < bad.size() - kRecordHeaderSize; ++i)
    ASSERT_EQ(body[i], std::byte{0}) << i;
}

TEST(RecordLayer, ALongStreamReadAheadThroughTheWrappingBufferArrivesWhole) {
  Endpoints e;
  std::string sent;
  for (std::size_t i = 0; sent.size() < 3'000'000; ++i)
    sent += std::string(1 + (i * 7919) % 40000, static_cast<char>('A' + i % 26));
  std::thread sender([&] {
    for (std::size_t at = 0; at < sent.size(); at += 100000) {
      if (!e.server.write(as_bytes(sent.substr(at, 100000)))) return;
    }
    (void)e.server.close();
  });
  test::Fetched got = test::read_ahead_to_end(e.client);
  sender.join();
  ASSERT_FALSE(got.error) << got.error->message();
  ASSERT_EQ(got.data.size(), sent.size());
  EXPECT_TRUE(got.data == sent);
}

TEST(RecordLayer, ARecordTrickledIntoANonBlockingSocketIsReadAheadOnceItIsWhole) {
  Pair fds = socket_pair();
  ASSERT_EQ(::fcntl(fds.client.get(), F_SETFL, O_NONBLOCK), 0);
  auto layer = *RecordLayer::create(fds.client.get(), kSuite, kServerSecret, kClientSecret);
  const auto record = hex(v::kServerApplicationRecord);
  send_all(fds.server.get(), hex(v::kServerTicketRecord));  // the record before it (skipped)
  for (std::size_t i = 0; i + 1 < record.size(); ++i) {
    send_all(fds.server.get(), std::span(record).subspan(i, 1));
    auto early = layer.read();
    ASSERT_FALSE(early) << "byte " << i;
    ASSERT_EQ(early.error().sys_errno(), EAGAIN) << early.error().message();
    EXPECT_FALSE(layer.record_waiting());
  }
  send_all(fds.server.get(), std::span(record).last(1));
  auto data = layer.read();
  ASSERT_TRUE(data) << data.error().message();
  ASSERT_EQ(data->size(), 50u);
  for (std::size_t i = 0; i < 50; ++i) EXPECT_EQ(std::to_integer<std::size_t>((*data)[i]), i);
}

TEST(RecordLayer, ReadingIntoACallersBufferWhileRecordsWaitReadAheadIsRefused) {
  Endpoints e;
  ASSERT_TRUE(e.server.write(as_bytes("one")));
  ASSERT_TRUE(e.server.write(as_bytes("two")));
  auto data = e.client.read();
  ASSERT_TRUE(data) << data.error().message();
  std::vector<std::byte> buffer(kMaxCiphertext);
  auto mixed = e.client.read(buffer);
  ASSERT_FALSE(mixed);
  EXPECT_EQ(mixed.error().code(), Errc::invalid_argument);
}

}  // namespace
}  // namespace zc::secure
