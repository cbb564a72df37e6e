#include "zcopy/secure/record_writer.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "zcopy/core/fd.hpp"
#include "zcopy/mem/region.hpp"
#include "zcopy/net/tcp.hpp"
#include "zcopy/net/zerocopy_sender.hpp"
#include "zcopy/secure/record_layer.hpp"

namespace zc::secure {
namespace {

constexpr auto kSuite = CipherSuite::aes_256_gcm_sha384;

Secret secret(std::uint8_t fill) {
  std::vector<std::uint8_t> bytes(suite_hash_size(kSuite), fill);
  return *Secret::from(bytes);
}

struct TcpPair {
  Fd client, server;
};

TcpPair tcp_pair() {
  auto listener = net::listen_tcp(net::Endpoint{"127.0.0.1", 0}, {.nonblocking = false});
  EXPECT_TRUE(listener);
  auto address = net::local_address(listener->get());
  auto client = net::connect_tcp({"127.0.0.1", address->port()}, std::chrono::seconds(5));
  EXPECT_TRUE(client);
  Fd server = Fd::adopt(::accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC));
  return {std::move(*client), std::move(server)};
}

TEST(RecordWriter, NoKeyAndNoncePairIsEverUsedTwiceAcrossKeyUpdates) {
  auto writer = RecordWriter::create(-1, *RecordCipher::create(kSuite, secret(7)));
  ASSERT_TRUE(writer);
  std::set<NonceUse> used;
  std::size_t sealed = 0;
  std::vector<std::byte> space(64 + kRecordOverhead);
  for (int generation = 0; generation < 4; ++generation) {
    for (int i = 0; i < 3000; ++i) {
      auto record =
          writer->seal(space, static_cast<std::size_t>(i % 64), ContentType::application_data);
      ASSERT_TRUE(record) << record.error().message();
      ASSERT_TRUE(used.insert(record->nonce_use).second)
          << "generation " << generation << " record " << i << " reused a (key, nonce) pair";
      ++sealed;
    }
    ASSERT_TRUE(writer->update_keys());
  }
  EXPECT_EQ(used.size(), sealed);
  EXPECT_EQ(writer->cipher().generation(), 4u);
}

TEST(RecordWriter, LayerAnswersEveryRequestedKeyUpdateBeforeItsNextData) {
  // Each answer moves the client's write keys on; the server opens the data after it only if
  // the answer came first and both sides agree on the generation.
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  Fd a = Fd::adopt(fds[0]), b = Fd::adopt(fds[1]);
  auto client = *RecordLayer::create(a.get(), kSuite, secret(1), secret(2));
  auto server = *RecordLayer::create(b.get(), kSuite, secret(2), secret(1));
  std::vector<std::byte> buffer(kMaxCiphertext);
  const std::string word = "w";
  for (int round = 0; round < 5; ++round) {
    ASSERT_TRUE(server.update_write_keys(true));
    ASSERT_TRUE(server.write(std::as_bytes(std::span(word))));
    ASSERT_TRUE(client.read(buffer));
    ASSERT_TRUE(client.write(std::as_bytes(std::span(word))));
    auto got = server.read(buffer);
    ASSERT_TRUE(got) << got.error().message();
  }
  EXPECT_EQ(client.writer().cipher().generation(), 5u);
  EXPECT_EQ(server.key_updates_received(), 5u);
}

TEST(RecordWriter, RecordsSealedInPlaceInARegisteredRegionGoOutThroughTheZeroCopySender) {
  constexpr std::size_t kSlot = kMaxPlaintext + kRecordOverhead;
  constexpr std::size_t kSlots = 8;
  auto region = Region::create_anonymous(kSlot * kSlots, {.pin = true});
  if (!region) region = Region::create_anonymous(kSlot * kSlots);
  ASSERT_TRUE(region) << region.error().message();
  TcpPair pair = tcp_pair();
  auto sender = net::ZeroCopySender::create(pair.client.get());
  ASSERT_TRUE(sender) << sender.error().message();
  (void)sender->register_buffer(region->bytes());  // SEND_ZC when the kernel has it
  auto writer = RecordWriter::create(pair.client.get(), *RecordCipher::create(kSuite, secret(3)));
  auto reader = RecordLayer::create(pair.server.get(), kSuite, secret(3), secret(4));
  ASSERT_TRUE(writer && reader);

  std::string sent, received;
  std::vector<std::byte> buffer(kMaxCiphertext);
  for (std::size_t i = 0; i < 3 * kSlots; ++i) {
    std::span<std::byte> slot = region->bytes().subspan((i % kSlots) * kSlot, kSlot);
    const std::string content(kMaxPlaintext - i, static_cast<char>('a' + i));
    // The content is written where the record will be; sealing turns it into ciphertext there.
    std::memcpy(slot.data() + kRecordHeaderSize, content.data(), content.size());
    auto sealed = writer->seal(slot, content.size(), ContentType::application_data);
    ASSERT_TRUE(sealed) << sealed.error().message();
    ASSERT_EQ(sealed->bytes.data(), slot.data());
    EXPECT_NE(std::memcmp(slot.data() + kRecordHeaderSize, content.data(), 64), 0);
    auto ticket = sender->send(sealed->bytes);
    ASSERT_TRUE(ticket) << ticket.error().message();
    sent += content;
    auto data = reader->read(buffer);
    ASSERT_TRUE(data) << data.error().message();
    received.append(reinterpret_cast<const char*>(data->data()), data->size());
    ASSERT_TRUE(sender->wait(*ticket));  // the slot may be sealed again only now
  }
  EXPECT_TRUE(sent == received);
  ASSERT_TRUE(sender->flush());
}

TEST(RecordWriter, ContentSealedFromWhereItLiesOpensToTheSameBytesAndLeavesTheSourceAlone) {
  TcpPair pair = tcp_pair();
  auto writer = RecordWriter::create(pair.client.get(), *RecordCipher::create(kSuite, secret(5)));
  auto reader = RecordLayer::create(pair.server.get(), kSuite, secret(5), secret(6));
  ASSERT_TRUE(writer && reader);
  std::vector<std::byte> space(kMaxPlaintext + kRecordOverhead);
  std::vector<std::byte> buffer(kMaxCiphertext);
  for (const std::size_t size :
       {std::size_t{0}, std::size_t{1}, std::size_t{4096}, kMaxPlaintext}) {
    std::string source(size, '\0');
    for (std::size_t i = 0; i < size; ++i) source[i] = static_cast<char>('A' + i % 26);
    const std::string before = source;
    auto sealed =
        writer->seal_from(std::as_bytes(std::span(source)), space, ContentType::application_data);
    ASSERT_TRUE(sealed) << sealed.error().message();
    EXPECT_EQ(sealed->bytes.size(), size + kRecordOverhead);
    EXPECT_EQ(source, before) << "the source is only read";
    ASSERT_TRUE(writer->send(sealed->bytes));
    if (size == 0) continue;  // an empty record carries nothing for read() to return
    auto data = reader->read(buffer);
    ASSERT_TRUE(data) << data.error().message();
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(data->data()), data->size()), before);
  }
  std::vector<std::byte> too_big(kMaxPlaintext + 1);
  EXPECT_FALSE(writer->seal_from(too_big, space, ContentType::application_data));
  EXPECT_FALSE(writer->seal_from(std::span(too_big).first(64),
                                 std::span(space).first(64 + kRecordOverhead - 1),
                                 ContentType::application_data));
}

}  // namespace
}  // namespace zc::secure
