// zcopy get --checksum against a python3 range server: the right digest renames the file, a wrong
// one leaves nothing, both spellings and both digest types are understood, and a bad value is a
// usage error (the expected digests come from sha256sum and sha512sum); and a server whose
// Repr-Digest or Digest field does not match its body gets that body refused.
#include <gtest/gtest.h>

#include <filesystem>

#include "client_test_servers.hpp"
#include "support/capability_gate.hpp"
#include "support/shell_command.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/http/client/download.hpp"
#include "zcopy/http/client/part_record.hpp"
#include "zcopy/secure/digest.hpp"

namespace zc::http {
namespace {

using test::TempDir;

// Over one hash step, so the single stream hashes while it receives; not a multiple of a page.
constexpr std::size_t kFileSize = 20 * kMiB + 12345;

std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

test::CommandResult run_get(const std::string& args) {
  return test::run_command(test::zcopy_tool() + " get " + args + " 2>&1");
}

class GetChecksum : public ::testing::Test {
 protected:
  void SetUp() override {
    ZC_REQUIRE_TOOL();
    ZC_REQUIRE_PROGRAM("sha256sum");
    ZC_REQUIRE_PROGRAM("sha512sum");
    std::filesystem::create_directories(dir_ / "www");
    test::write_random_file(dir_ / "www/data.bin", kFileSize, 41);
    server_ = test::start_range_server(dir_.path(), dir_ / "www");
    ASSERT_TRUE(server_.running()) << "the range server did not start; see " << dir_ / "python.log";
  }

  // What `program` (sha256sum, sha512sum) says of the served file.
  std::string digest_by(const std::string& program) const {
    auto r = test::run_command(program + " " + dir_ / "www/data.bin");
    return r.output.substr(0, r.output.find(' '));
  }
  std::string url() const { return server_.url("/data.bin"); }
  std::string output() const { return dir_ / "out.bin"; }

  TempDir dir_;
  test::ServerProcess server_;
};

TEST_F(GetChecksum, TheRightDigestRenamesTheFileAndTheLedgerCountsTheHashingPass) {
  const std::string sha256 = digest_by("sha256sum");
  const std::string sha512 = digest_by("sha512sum");
  // aria2's --checksum=TYPE=HEX, upper-case types and hex, one stream and several ranges.
  for (const std::string& option :
       {"--checksum sha-256=" + sha256, "--checksum=sha-512=" + sha512,
        "--checksum SHA256=" + upper(sha256), "--parallel-ranges 4 --checksum sha-256=" + sha256}) {
    SCOPED_TRACE(option);
    auto got = run_get(option + " --json -o " + output() + " " + url());
    ASSERT_EQ(got.exit_code, 0) << got.output;
    EXPECT_EQ(test::read_file(output()), test::read_file(dir_ / "www/data.bin"));
    EXPECT_NE(got.output.find("verified (--checksum)"), std::string::npos) << got.output;
    EXPECT_NE(got.output.find("\"bytes_hashed\":" + std::to_string(kFileSize)), std::string::npos)
        << got.output;
    std::filesystem::remove(output());
  }
}

TEST_F(GetChecksum, AWrongDigestLeavesNoFileAndNamesBothDigests) {
  const std::string found = digest_by("sha256sum");
  const std::string expected(64, 'a');
  for (const char* ranges : {"1", "4"}) {
    SCOPED_TRACE(ranges);
    auto got = run_get("--parallel-ranges " + std::string(ranges) +
                       " --checksum sha-256=" + expected + " -o " + output() + " " + url());
    EXPECT_EQ(got.exit_code, 1) << got.output;
    EXPECT_NE(got.output.find("expected " + expected), std::string::npos) << got.output;
    EXPECT_NE(got.output.find("found " + found), std::string::npos) << got.output;
    EXPECT_EQ(std::count(got.output.begin(), got.output.end(), '\n'), 1) << got.output;
    EXPECT_FALSE(test::exists(output()));
    EXPECT_FALSE(test::exists(part_path(output()))) << "known-bad bytes were kept to resume";
    EXPECT_FALSE(test::exists(record_path(output())));
  }
}

TEST_F(GetChecksum, AMalformedChecksumIsAUsageError) {
  const std::string sha256 = digest_by("sha256sum");
  for (const std::string& bad :
       {"md5=" + sha256.substr(0, 32), "sha-256=" + sha256.substr(1), "sha-512=" + sha256,
        std::string("sha-256"), "sha-256=" + sha256.substr(0, 62) + "zz"}) {
    SCOPED_TRACE(bad);
    auto got = run_get("--checksum " + bad + " -o " + output() + " " + url());
    EXPECT_EQ(got.exit_code, 2) << got.output;
    EXPECT_FALSE(test::exists(part_path(output())));
  }
}

TEST(GetServerDigest, ABodyThatDoesNotMatchTheAnnouncedDigestIsRefused) {
  ZC_REQUIRE_TOOL();
  TempDir out_;
  const std::string body = "the body the server sends\n";
  for (const std::string& field :
       {"Repr-Digest: sha-256=:" + secure::to_base64(std::vector<std::uint8_t>(32, 7)) + ":",
        "Digest: SHA-256=" + secure::to_base64(std::vector<std::uint8_t>(32, 7))}) {
    SCOPED_TRACE(field);
    test::OneShotServer liar("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                             "\r\n" + field + "\r\nConnection: close\r\n\r\n" + body);
    auto got = test::run_command(test::zcopy_tool() + " get -o " + out_ / "c.bin " +
                                 liar.url("/c.bin") + " 2>&1");
    EXPECT_EQ(got.exit_code, 1) << got.output;
    EXPECT_NE(got.output.find("sha-256 mismatch: expected 0707"), std::string::npos) << got.output;
    EXPECT_FALSE(std::filesystem::exists(out_ / "c.bin"));
    EXPECT_FALSE(std::filesystem::exists(out_ / "c.bin.part"));
  }
}

}  // namespace
}  // namespace zc::http
