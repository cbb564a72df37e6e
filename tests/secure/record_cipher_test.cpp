#include "zcopy/secure/record_cipher.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "secure/rfc8448_vectors.hpp"
#include "zcopy/secure/record_format.hpp"
#include "zcopy/secure/unverified_record.hpp"

namespace zc::secure {
namespace {

using test::rfc8448::hex;
namespace v = test::rfc8448;

RecordCipher cipher_of(std::string_view secret,
                       CipherSuite suite = CipherSuite::aes_128_gcm_sha256) {
  auto cipher = RecordCipher::create(suite, *Secret::from(hex(secret)));
  EXPECT_TRUE(cipher) << cipher.error().message();
  return std::move(*cipher);
}

std::vector<std::uint8_t> payload50() {
  std::vector<std::uint8_t> p(50);
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<std::uint8_t>(i);
  return p;
}

// Seals `content` with `type` and no padding, as the RFC's traces do; returns the whole record.
std::vector<std::uint8_t> seal_record(RecordCipher& cipher, std::span<const std::uint8_t> content,
                                      ContentType type) {
  std::vector<std::uint8_t> record(kRecordHeaderSize + content.size() + 1 + kTagSize);
  auto header = protected_header(content.size() + 1 + kTagSize);
  std::copy(header.begin(), header.end(), record.begin());
  std::copy(content.begin(), content.end(), record.begin() + kRecordHeaderSize);
  record[kRecordHeaderSize + content.size()] = static_cast<std::uint8_t>(type);
  std::span<std::uint8_t> inner(record.data() + kRecordHeaderSize, content.size() + 1);
  auto used = cipher.seal(header, inner,
                          std::span<std::uint8_t, kTagSize>(inner.data() + inner.size(), kTagSize));
  EXPECT_TRUE(used) << used.error().message();
  return record;
}

// Opens a whole record held in `record`; the content is returned as bytes.
Result<std::pair<ContentType, std::vector<std::uint8_t>>> open_record(
    RecordCipher& cipher, std::vector<std::uint8_t>& record) {
  std::span<const std::uint8_t, kRecordHeaderSize> header(record.data(), kRecordHeaderSize);
  std::span<std::byte> body(reinterpret_cast<std::byte*>(record.data()) + kRecordHeaderSize,
                            record.size() - kRecordHeaderSize);
  auto opened = UnverifiedRecord::adopt(header, body).open(cipher);
  if (!opened) return std::unexpected(opened.error());
  auto content = opened->content();
  const auto* p = reinterpret_cast<const std::uint8_t*>(content.data());
  return std::pair{opened->type(), std::vector<std::uint8_t>(p, p + content.size())};
}

TEST(RecordCipher, SealReproducesRfc8448ApplicationRecordsOfBothSides) {
  auto client = cipher_of(v::kClientApplicationTraffic);
  EXPECT_EQ(seal_record(client, payload50(), ContentType::application_data),
            hex(v::kClientApplicationRecord));
  const std::uint8_t close_notify[] = {1, 0};
  EXPECT_EQ(seal_record(client, close_notify, ContentType::alert), hex(v::kClientAlertRecord));
}

TEST(RecordCipher, SealReproducesRfc8448ClientFinishedUnderHandshakeKeys) {
  auto client = cipher_of(v::kClientHandshakeTraffic);
  auto record = hex(v::kClientFinishedRecord);
  auto opened = open_record(client, record);
  ASSERT_TRUE(opened) << opened.error().message();
  EXPECT_EQ(opened->first, ContentType::handshake);
  ASSERT_EQ(opened->second.size(), 36u);
  EXPECT_EQ(opened->second[0], 20);  // Finished

  auto again = cipher_of(v::kClientHandshakeTraffic);
  EXPECT_EQ(seal_record(again, opened->second, ContentType::handshake),
            hex(v::kClientFinishedRecord));
}

TEST(RecordCipher, OpenReadsRfc8448ServerRecordsInSequence) {
  auto server = cipher_of(v::kServerApplicationTraffic);
  auto ticket = hex(v::kServerTicketRecord);
  auto opened = open_record(server, ticket);
  ASSERT_TRUE(opened) << opened.error().message();
  EXPECT_EQ(opened->first, ContentType::handshake);
  EXPECT_EQ(opened->second[0], 4);  // NewSessionTicket

  auto data = hex(v::kServerApplicationRecord);
  opened = open_record(server, data);
  ASSERT_TRUE(opened) << opened.error().message();
  EXPECT_EQ(opened->first, ContentType::application_data);
  EXPECT_EQ(opened->second, payload50());

  auto alert = hex(v::kServerAlertRecord);
  opened = open_record(server, alert);
  ASSERT_TRUE(opened) << opened.error().message();
  EXPECT_EQ(opened->first, ContentType::alert);
  EXPECT_EQ(opened->second, (std::vector<std::uint8_t>{1, 0}));
  EXPECT_EQ(server.sequence(), 3u);
}

TEST(RecordCipher, RecordOpenedOutOfSequenceFailsAndIsWiped) {
  auto server = cipher_of(v::kServerApplicationTraffic);
  auto data = hex(v::kServerApplicationRecord);  // sequence 1, offered as sequence 0
  auto opened = open_record(server, data);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code(), Errc::rejected);
  for (std::size_t i = kRecordHeaderSize; i < data.size(); ++i) ASSERT_EQ(data[i], 0) << i;
}

TEST(RecordCipher, FlippedCiphertextOrTagBitIsRejectedAndWiped) {
  for (std::size_t position : {std::size_t{5}, std::size_t{40}, std::size_t{71}}) {
    auto client = cipher_of(v::kClientApplicationTraffic);
    auto record = hex(v::kClientApplicationRecord);
    record[position] ^= 0x01;
    auto opened = open_record(client, record);
    ASSERT_FALSE(opened) << position;
    EXPECT_NE(opened.error().message().find("authentication tag"), std::string::npos);
    for (std::size_t i = kRecordHeaderSize; i < record.size(); ++i) ASSERT_EQ(record[i], 0);
  }
}

TEST(RecordCipher, AlteredHeaderFailsBecauseItIsAuthenticated) {
  auto client = cipher_of(v::kClientApplicationTraffic);
  auto record = hex(v::kClientApplicationRecord);
  record[2] = 0x01;  // legacy version is part of the AAD
  EXPECT_FALSE(open_record(client, record));
}

TEST(RecordCipher, EverySuiteRoundTripsAndRejectsATamperedRecord) {
  for (CipherSuite suite : {CipherSuite::aes_128_gcm_sha256, CipherSuite::aes_256_gcm_sha384,
                            CipherSuite::chacha20_poly1305_sha256}) {
    std::vector<std::uint8_t> secret(suite_hash_size(suite), 0x42);
    auto sealer = RecordCipher::create(suite, *Secret::from(secret));
    auto opener = RecordCipher::create(suite, *Secret::from(secret));
    ASSERT_TRUE(sealer && opener);
    std::vector<std::uint8_t> content(kMaxPlaintext, 0x17);
    for (int i = 0; i < 3; ++i) {
      auto record = seal_record(*sealer, content, ContentType::application_data);
      auto opened = open_record(*opener, record);
      ASSERT_TRUE(opened) << suite_name(suite) << ": " << opened.error().message();
      EXPECT_EQ(opened->second, content);
    }
    auto record = seal_record(*sealer, content, ContentType::application_data);
    record[record.size() - 1] ^= 0x80;
    EXPECT_FALSE(open_record(*opener, record)) << suite_name(suite);
  }
}

TEST(RecordCipher, UpdateKeysMovesBothSidesToTheNextGeneration) {
  auto sealer = cipher_of(v::kClientApplicationTraffic);
  auto opener = cipher_of(v::kClientApplicationTraffic);
  auto stale = cipher_of(v::kClientApplicationTraffic);
  ASSERT_TRUE(sealer.update_keys());
  ASSERT_TRUE(opener.update_keys());
  EXPECT_EQ(sealer.generation(), 1u);
  EXPECT_EQ(sealer.sequence(), 0u);
  auto record = seal_record(sealer, payload50(), ContentType::application_data);
  auto copy = record;
  EXPECT_TRUE(open_record(opener, record));
  EXPECT_FALSE(open_record(stale, copy));
}

}  // namespace
}  // namespace zc::secure
