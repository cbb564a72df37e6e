#include "zcopy/secure/key_schedule.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "secure/rfc8448_vectors.hpp"

namespace zc::secure {
namespace {

using test::rfc8448::hex;
namespace v = test::rfc8448;

constexpr auto kSuite = CipherSuite::aes_128_gcm_sha256;

Secret secret_of(std::string_view text) {
  return *Secret::from(hex(text));
}

std::vector<std::uint8_t> expand(std::string_view secret, std::string_view label,
                                 std::string_view context, std::size_t length) {
  std::vector<std::uint8_t> out(length);
  auto done = hkdf_expand_label(kSuite, hex(secret), label, hex(context), out);
  EXPECT_TRUE(done) << done.error().message();
  return out;
}

std::vector<std::uint8_t> bytes(std::span<const std::uint8_t> span) {
  return {span.begin(), span.end()};
}

TEST(KeySchedule, HkdfExpandLabelGivesRfc8448HandshakeTrafficSecrets) {
  EXPECT_EQ(expand(v::kHandshakeSecret, "c hs traffic", v::kHelloHash, 32),
            hex(v::kClientHandshakeTraffic));
  EXPECT_EQ(expand(v::kHandshakeSecret, "s hs traffic", v::kHelloHash, 32),
            hex(v::kServerHandshakeTraffic));
  EXPECT_EQ(expand(v::kHandshakeSecret, "derived", v::kEmptyHash, 32), hex(v::kDerivedForMaster));
}

TEST(KeySchedule, TrafficKeysMatchRfc8448ForHandshakeAndApplicationSecrets) {
  struct Case {
    std::string_view secret, key, iv;
  };
  for (const Case& c :
       {Case{v::kServerHandshakeTraffic, v::kServerHandshakeKey, v::kServerHandshakeIv},
        Case{v::kClientHandshakeTraffic, v::kClientHandshakeKey, v::kClientHandshakeIv},
        Case{v::kServerApplicationTraffic, v::kServerApplicationKey, v::kServerApplicationIv},
        Case{v::kClientApplicationTraffic, v::kClientApplicationKey, v::kClientApplicationIv}}) {
    auto keys = derive_traffic_keys(kSuite, secret_of(c.secret));
    ASSERT_TRUE(keys) << keys.error().message();
    EXPECT_EQ(bytes(keys->key.bytes()), hex(c.key));
    EXPECT_EQ(std::vector<std::uint8_t>(keys->iv.begin(), keys->iv.end()), hex(c.iv));
  }
}

TEST(KeySchedule, NextTrafficSecretIsExpandLabelTrafficUpdOverTheHashLength) {
  auto next = next_traffic_secret(kSuite, secret_of(v::kServerApplicationTraffic));
  ASSERT_TRUE(next);
  EXPECT_EQ(bytes(next->bytes()), expand(v::kServerApplicationTraffic, "traffic upd", "", 32));
  EXPECT_NE(bytes(next->bytes()), hex(v::kServerApplicationTraffic));

  std::vector<std::uint8_t> secret384(48, 0x5a);
  auto next384 = next_traffic_secret(CipherSuite::aes_256_gcm_sha384, *Secret::from(secret384));
  ASSERT_TRUE(next384);
  EXPECT_EQ(next384->size(), 48u);
}

TEST(KeySchedule, KeySizesFollowTheSuite) {
  std::vector<std::uint8_t> secret(48, 1);
  auto aes256 = derive_traffic_keys(CipherSuite::aes_256_gcm_sha384, *Secret::from(secret));
  ASSERT_TRUE(aes256);
  EXPECT_EQ(aes256->key.size(), 32u);
  auto chacha = derive_traffic_keys(CipherSuite::chacha20_poly1305_sha256,
                                    *Secret::from(std::span(secret).first(32)));
  ASSERT_TRUE(chacha);
  EXPECT_EQ(chacha->key.size(), 32u);
}

TEST(KeySchedule, SecretLongerThan48BytesIsRefused) {
  std::vector<std::uint8_t> secret(49, 1);
  EXPECT_FALSE(Secret::from(secret));
}

}  // namespace
}  // namespace zc::secure
