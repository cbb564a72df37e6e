// curl and wget, unmodified, against the server: ranges, HEAD, keep-alive, 304, resume.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "http_test_support.hpp"
#include "support/sanitizer.hpp"
#include "zcopy/http/server/server.hpp"

namespace zc::http {
namespace {

using test::run_program;

class ServerPeersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bytes_ = test::generated_bytes(test::kSanitized ? 4 << 20 : 32 << 20, 11);
    ASSERT_TRUE(test::write_file(root_ / "data.bin", bytes_));
    ServerOptions options;
    options.root = root_.path();
    options.bind = {"127.0.0.1", 0};
    options.threads = 2;
    options.access_log_fd = -1;
    auto server = Server::start(options);
    ASSERT_TRUE(server) << server.error().message();
    server_ = std::move(*server);
    url_ = server_->url() + "data.bin";
  }

  test::TempDir root_;
  test::TempDir work_;
  std::string bytes_;
  std::unique_ptr<Server> server_;
  std::string url_;
};

TEST_F(ServerPeersTest, CurlDownloadsByteExactAndReusesOneConnection) {
  ZC_REQUIRE_PROGRAM("curl");
  const auto r =
      run_program({"curl", "-sS", "-v", "-o", work_ / "one", url_, "-o", work_ / "two", url_});
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("Re-using existing connection"), std::string::npos) << r.out;
  EXPECT_EQ(test::checksum(test::read_file(work_ / "one")), test::checksum(bytes_));
  EXPECT_EQ(test::checksum(test::read_file(work_ / "two")), test::checksum(bytes_));
  EXPECT_EQ(server_->stats().connections_accepted, 1U);
}

TEST_F(ServerPeersTest, CurlGetsRangesAndHead) {
  ZC_REQUIRE_PROGRAM("curl");
  const auto range = run_program({"curl", "-sS", "-r", "1000-1999", "-o", work_ / "part", url_});
  ASSERT_EQ(range.exit_code, 0) << range.out;
  EXPECT_EQ(test::read_file(work_ / "part"), bytes_.substr(1000, 1000));
  const auto head = run_program({"curl", "-sS", "-I", url_});
  ASSERT_EQ(head.exit_code, 0);
  EXPECT_NE(head.out.find("HTTP/1.1 200 OK"), std::string::npos) << head.out;
  EXPECT_NE(head.out.find("Content-Length: " + std::to_string(bytes_.size())), std::string::npos);
  const auto beyond = run_program({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-r",
                                   std::to_string(bytes_.size()) + "-", url_});
  EXPECT_EQ(beyond.out, "416");
}

TEST_F(ServerPeersTest, CurlRevalidatesWithEtagAndDateAndGets304) {
  ZC_REQUIRE_PROGRAM("curl");
  const std::string etag = work_ / "etag";
  ASSERT_EQ(
      run_program({"curl", "-sS", "--etag-save", etag, "-o", work_ / "first", url_}).exit_code, 0);
  const auto by_tag = run_program(
      {"curl", "-sS", "--etag-compare", etag, "-o", work_ / "second", "-w", "%{http_code}", url_});
  EXPECT_EQ(by_tag.out, "304");
  // -z FILE sends If-Modified-Since with the file's mtime; ours is newer than the served file.
  const auto by_date = run_program(
      {"curl", "-sS", "-z", work_ / "first", "-o", "/dev/null", "-w", "%{http_code}", url_});
  EXPECT_EQ(by_date.out, "304");
}

TEST_F(ServerPeersTest, WgetDownloadsAndResumesAPartialFile) {
  ZC_REQUIRE_PROGRAM("wget");
  const auto whole = run_program({"wget", "-q", "-O", work_ / "whole", url_});
  ASSERT_EQ(whole.exit_code, 0) << whole.out;
  EXPECT_EQ(test::checksum(test::read_file(work_ / "whole")), test::checksum(bytes_));
  // A file that stopped halfway: wget -c asks for the rest with a Range request.
  const std::string partial = work_ / "data.bin";
  ASSERT_TRUE(test::write_file(partial, bytes_.substr(0, bytes_.size() / 2)));
  const auto resumed = run_program({"wget", "-c", "-P", work_.path(), url_});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out;
  EXPECT_NE(resumed.out.find("206 Partial Content"), std::string::npos) << resumed.out;
  EXPECT_EQ(test::checksum(test::read_file(partial)), test::checksum(bytes_));
}

}  // namespace
}  // namespace zc::http
