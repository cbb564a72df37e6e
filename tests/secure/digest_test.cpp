#include "zcopy/secure/digest.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "bench/support/data.hpp"
#include "zcopy/core/fd.hpp"

namespace zc::secure {
namespace {

std::string hex_digest(DigestAlgorithm algorithm, std::string_view text) {
  auto digest = Digest::create(algorithm);
  EXPECT_TRUE(digest);
  EXPECT_TRUE(digest->update({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}));
  auto value = digest->finish();
  EXPECT_TRUE(value);
  return to_hex(*value);
}

TEST(Digest, MatchesTheFipsExamplesForAbc) {
  EXPECT_EQ(hex_digest(DigestAlgorithm::sha256, "abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex_digest(DigestAlgorithm::sha512, "abc"),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}

TEST(Digest, NamesAreReadInEverySpellingAndUnknownOnesRefused) {
  EXPECT_EQ(digest_from_name("sha-256"), DigestAlgorithm::sha256);
  EXPECT_EQ(digest_from_name("SHA256"), DigestAlgorithm::sha256);
  EXPECT_EQ(digest_from_name("Sha-512"), DigestAlgorithm::sha512);
  EXPECT_EQ(digest_from_name("md5"), std::nullopt);
  EXPECT_EQ(digest_from_name("sha-2566"), std::nullopt);
  EXPECT_EQ(digest_name(DigestAlgorithm::sha512), "sha-512");
}

TEST(Digest, HexRoundTripsAndRefusesOddOrForeignDigits) {
  const std::vector<std::uint8_t> bytes = {0x00, 0xab, 0xff};
  EXPECT_EQ(to_hex(bytes), "00abff");
  EXPECT_EQ(from_hex("00ABff"), bytes);
  EXPECT_EQ(from_hex("0ab"), std::nullopt);
  EXPECT_EQ(from_hex("0g"), std::nullopt);
}

TEST(Digest, Base64FollowsRfc4648AndDecodesStrictly) {
  const auto bytes = [](std::string_view s) {
    return std::vector<std::uint8_t>(s.begin(), s.end());
  };
  for (const auto& [plain, coded] : std::vector<std::pair<std::string, std::string>>{
           {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foobar", "Zm9vYmFy"}}) {
    EXPECT_EQ(to_base64(bytes(plain)), coded);
    EXPECT_EQ(from_base64(coded), bytes(plain));
  }
  for (const char* bad : {"Zg=", "Zh==", "Z===", "Zm9v\n", "Zg==Zg==", "Zm-v", "=Zm9"}) {
    EXPECT_EQ(from_base64(bad), std::nullopt) << bad;
  }
}

TEST(Digest, AFileRegionHashesLikeItsBytesFromAnyOffset) {
  bench::TempDir dir;
  const std::string bytes = bench::random_bytes(3 * 4096 + 77, 5);
  const std::string path = dir / "f";
  std::ofstream(path, std::ios::binary) << bytes;
  auto fd = Fd::open(path, O_RDONLY);
  ASSERT_TRUE(fd);
  for (const std::uint64_t offset : {0ul, 1ul, 4095ul, 4097ul}) {
    SCOPED_TRACE(offset);
    auto digest = Digest::create(DigestAlgorithm::sha256);
    ASSERT_TRUE(digest);
    ASSERT_TRUE(hash_file(*digest, fd->get(), offset, bytes.size() - offset));
    EXPECT_EQ(to_hex(*digest->finish()),
              hex_digest(DigestAlgorithm::sha256, std::string_view(bytes).substr(offset)));
    auto read = Digest::create(DigestAlgorithm::sha256);
    ASSERT_TRUE(hash_file_by_read(*read, fd->get(), offset, bytes.size() - offset));
    EXPECT_EQ(to_hex(*read->finish()),
              hex_digest(DigestAlgorithm::sha256, std::string_view(bytes).substr(offset)));
  }
  auto past_the_end = Digest::create(DigestAlgorithm::sha256);
  auto failed = hash_file_by_read(*past_the_end, fd->get(), 0, bytes.size() + 1);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code(), Errc::corrupt);
}

}  // namespace
}  // namespace zc::secure
