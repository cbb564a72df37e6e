// Repr-Digest end to end: `zcopy serve` announces each file's SHA-256 (checked against
// sha256sum), follows the file's changes, hashes a large file in the background, links its
// mirrors; `zcopy get` verifies against the field by default and refuses a body that does not
// match it (get_checksum_test.cpp has a server that lies); curl and aria2c fetch from the server
// without complaint.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include <filesystem>
#include <memory>
#include <thread>

#include "http_test_support.hpp"
#include "serve_process.hpp"
#include "support/capability_gate.hpp"
#include "support/shell_command.hpp"
#include "zcopy/http/client/download.hpp"
#include "zcopy/http/server/server.hpp"
#include "zcopy/secure/digest.hpp"

namespace zc::test {
namespace {

// What sha256sum says of `path`, as a Repr-Digest member.
std::string sha256sum_field(const std::string& path) {
  const auto run = run_command("sha256sum " + path);
  auto bytes = secure::from_hex(run.output.substr(0, 64));
  EXPECT_TRUE(bytes) << run.output;
  return "sha-256=:" + secure::to_base64(bytes.value_or(std::vector<std::uint8_t>{})) + ":";
}

class ReprDigest : public ::testing::Test {
 protected:
  void SetUp() override { ZC_REQUIRE_PROGRAM("sha256sum"); }

  void start(http::ServerOptions options = {}) {
    options.root = root_.path();
    options.bind = {"127.0.0.1", 0};
    options.threads = 1;
    options.access_log_fd = -1;
    auto server = http::Server::start(options);
    ASSERT_TRUE(server) << server.error().message();
    server_ = std::move(*server);
  }
  std::string field_of(const std::string& target, const std::string& name) {
    auto r = fetch(server_->port(), "HEAD " + target + " HTTP/1.1\r\nHost: t\r\n\r\n", true);
    EXPECT_TRUE(r);
    return r ? r->field(name) : std::string();
  }
  std::string url(const std::string& target) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + target;
  }

  TempDir root_;
  TempDir out_;
  std::unique_ptr<http::Server> server_;
};

TEST_F(ReprDigest, IsTheFilesSha256AndChangesWithTheFile) {
  const std::string path = root_ / "data.bin";
  ASSERT_TRUE(write_file(path, generated_bytes(300000, 1)));
  start();
  const std::string first = sha256sum_field(path);
  EXPECT_EQ(field_of("/data.bin", "repr-digest"), first);
  EXPECT_EQ(field_of("/data.bin", "repr-digest"), first) << "a second answer from the cache";
  // Same size, other bytes, a later mtime: another version, another digest.
  ASSERT_TRUE(write_file(path, generated_bytes(300000, 2)));
  const utimbuf later{.actime = 2000000000, .modtime = 2000000000};
  ASSERT_EQ(::utime(path.c_str(), &later), 0);
  const std::string second = sha256sum_field(path);
  EXPECT_NE(second, first);
  EXPECT_EQ(field_of("/data.bin", "repr-digest"), second);
}

TEST_F(ReprDigest, ALargeFileGoesWithoutTheFieldUntilItsBackgroundPassEnds) {
  const std::string path = root_ / "large.bin";
  ASSERT_TRUE(write_file(path, generated_bytes(3 << 20, 3)));
  http::ServerOptions options;
  options.digest_inline_limit = 1 << 20;
  start(options);
  // The first request queues the pass and is answered at once, without waiting for it.
  EXPECT_EQ(field_of("/large.bin", "repr-digest"), "");
  const std::string expected = sha256sum_field(path);
  // The bound only catches a pass that never ends; it takes milliseconds.
  std::string announced;
  for (int i = 0; i < 1000 && announced != expected; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    announced = field_of("/large.bin", "repr-digest");
  }
  EXPECT_EQ(announced, expected);
}

TEST_F(ReprDigest, AServerStopsWithoutWaitingForTheBackgroundPassOverAHugeFile) {
  // 64 GiB of holes: reading and hashing them takes half a minute or more on any machine.
  const std::string path = root_ / "huge.bin";
  ASSERT_TRUE(write_file(path, ""));
  ASSERT_EQ(::truncate(path.c_str(), off_t{64} << 30), 0);
  http::ServerOptions options;
  options.digest_inline_limit = 1 << 20;
  start(options);
  EXPECT_EQ(field_of("/huge.bin", "repr-digest"), "") << "the pass was queued";
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let it start reading
  const auto stopping = std::chrono::steady_clock::now();
  server_.reset();
  // The bound only catches a stop that waits for the pass; a stop takes milliseconds.
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, std::chrono::seconds(10));
}

TEST_F(ReprDigest, MirrorsAreLinkedAsDuplicatesOfTheSamePath) {
  ASSERT_TRUE(write_file(root_ / "a b.txt", "hello\n"));
  http::ServerOptions options;
  options.mirrors = {"https://mirror.example/pub/"};
  start(options);
  EXPECT_EQ(field_of("/a%20b.txt", "link"),
            "<https://mirror.example/pub/a%20b.txt>; rel=duplicate");
}

TEST_F(ReprDigest, GetVerifiesAgainstItByDefaultAndSaysWhenToldNotTo) {
  ZC_REQUIRE_TOOL();
  ASSERT_TRUE(write_file(root_ / "data.bin", generated_bytes(2 << 20, 4)));
  start();
  for (const char* ranges : {"1", "4"}) {
    SCOPED_TRACE(ranges);
    auto got = run_command(zcopy_tool() + " get --parallel-ranges " + ranges + " -o " +
                           out_ / "a.bin " + url("/data.bin") + " 2>&1");
    EXPECT_EQ(got.exit_code, 0) << got.output;
    EXPECT_NE(got.output.find("sha-256 verified (Repr-Digest)"), std::string::npos) << got.output;
    EXPECT_EQ(read_file(out_ / "a.bin"), read_file(root_ / "data.bin"));
    std::filesystem::remove(out_ / "a.bin");
  }
  auto unchecked = run_command(zcopy_tool() + " get --no-verify -o " + out_ / "b.bin " +
                               url("/data.bin") + " 2>&1");
  EXPECT_EQ(unchecked.exit_code, 0) << unchecked.output;
  EXPECT_EQ(unchecked.output.find("verified (Repr-Digest)"), std::string::npos);
  EXPECT_NE(unchecked.output.find("(--no-verify)"), std::string::npos) << unchecked.output;
}

TEST(ReprDigestPeers, CurlAndAria2cFetchFromServeAndAria2cChecksumPasses) {
  ZC_REQUIRE_TOOL();
  ZC_REQUIRE_PROGRAM("curl");
  ZC_REQUIRE_PROGRAM("aria2c");
  ZC_REQUIRE_PROGRAM("sha256sum");
  TempDir root, out;
  ASSERT_TRUE(write_file(root / "data.bin", generated_bytes(3 << 20, 5)));
  ServeProcess serve({tool_path(), "serve", root.path(), "--port", "0", "--mirror",
                      "http://127.0.0.1:1/", "--access-log", "/dev/null"});
  ASSERT_FALSE(serve.url().empty());
  const std::string url = serve.url() + "data.bin";
  auto head = run_command("curl -sSfI " + url + " 2>&1");
  EXPECT_EQ(head.exit_code, 0) << head.output;
  EXPECT_NE(head.output.find("Link: <http://127.0.0.1:1/data.bin>; rel=duplicate"),
            std::string::npos)
      << head.output;
  auto curl = run_command("curl -sSf -o " + out / "curl.bin " + url + " 2>&1");
  EXPECT_EQ(curl.exit_code, 0) << curl.output;
  EXPECT_EQ(read_file(out / "curl.bin"), read_file(root / "data.bin"));
  const std::string hex = run_command("sha256sum " + root / "data.bin").output.substr(0, 64);
  auto aria = run_command("aria2c -q --allow-overwrite=true --checksum=sha-256=" + hex + " -d " +
                          out.path() + " -o aria.bin " + url + " 2>&1");
  EXPECT_EQ(aria.exit_code, 0) << aria.output;
  EXPECT_EQ(read_file(out / "aria.bin"), read_file(root / "data.bin"));
  auto wrong =
      run_command("aria2c -q --allow-overwrite=true --checksum=sha-256=" + std::string(64, '0') +
                  " -d " + out.path() + " -o wrong.bin " + url + " 2>&1");
  EXPECT_NE(wrong.exit_code, 0) << "aria2c's check cannot fail: " << wrong.output;
}

}  // namespace
}  // namespace zc::test
