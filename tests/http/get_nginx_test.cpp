// zcopy get against Debian's nginx (sendfile on) on a loopback port: every method byte-exact, the
// ledger per method, ranges, resume, redirects and HTTP errors.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "client_test_servers.hpp"
#include "support/capability_gate.hpp"
#include "support/sanitizer.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/http/client/download.hpp"
#include "zcopy/http/client/download_batch.hpp"

namespace zc::http {
namespace {

using test::TempDir;

const std::size_t kFileSize = test::kSanitized ? 4 * kMiB : 24 * kMiB;

constexpr const char* kLocations =
    "location = /loop { return 302 /loop; }\n"
    "location = /moved { return 301 /data.bin; }\n"
    "location = /boom { return 500; }\n";

class GetFromNginx : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    std::filesystem::create_directories(dir_ / "www");
    test::write_random_file(dir_ / "www/data.bin", kFileSize, 7);
    nginx_ = test::start_nginx(dir_.path(), dir_ / "www", kLocations);
    ASSERT_TRUE(nginx_.running()) << "nginx did not start; see " << dir_ / "nginx-error.log";
  }

  Url url(const std::string& path) const { return *parse_url(nginx_.url(path)); }
  DownloadOptions options(const std::string& name, net::ReceiveMethod method) const {
    DownloadOptions o;
    o.output = dir_ / name;
    o.method = method;
    o.timeout = std::chrono::seconds(10);
    return o;
  }
  std::string source() const { return test::read_file(dir_ / "www/data.bin"); }

  TempDir dir_;
  test::ServerProcess nginx_;
};

TEST_F(GetFromNginx, SpliceDownloadIsByteExactAndItsLedgerCountsOneKernelCopy) {
  ZC_REQUIRE_CAPABILITY(Capability::splice);
  auto r = download(url("/data.bin"), options("out.bin", net::ReceiveMethod::splice));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(test::read_file(dir_ / "out.bin"), source());
  EXPECT_FALSE(test::exists(dir_ / "out.bin.part"));
  EXPECT_EQ(r->file_size, kFileSize);
  EXPECT_EQ(r->ledger.method, "splice");
  EXPECT_EQ(r->ledger.bytes, kFileSize);
  EXPECT_EQ(r->ledger.bytes_zero_copy, kFileSize);
  EXPECT_EQ(r->ledger.bytes_copied_user, 0u);
  EXPECT_EQ(r->ledger.bytes_copied_kernel, kFileSize);
  EXPECT_GT(r->ledger.wall_s, 0);
}

TEST_F(GetFromNginx, UringDownloadIsByteExact) {
  ZC_REQUIRE_CAPABILITY(Capability::io_uring_splice);
  auto r = download(url("/data.bin"), options("out.bin", net::ReceiveMethod::uring));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(test::read_file(dir_ / "out.bin"), source());
  EXPECT_EQ(r->ledger.bytes_zero_copy, kFileSize);
}

TEST_F(GetFromNginx, CopyDownloadIsByteExactAndCountsTwoCopies) {
  auto r = download(url("/data.bin"), options("out.bin", net::ReceiveMethod::copy));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(test::read_file(dir_ / "out.bin"), source());
  EXPECT_EQ(r->ledger.bytes_zero_copy, 0u);
  EXPECT_EQ(r->ledger.bytes_copied_kernel, 2 * kFileSize);
}

TEST_F(GetFromNginx, ParallelRangesSpliceIntoTheirOwnPartsByteExact) {
  DownloadOptions o = options("out.bin", net::ReceiveMethod::automatic);
  o.parallel_ranges = 4;
  auto r = download(url("/data.bin"), o);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(test::read_file(dir_ / "out.bin"), source());
  EXPECT_NE(r->ledger.method.find(" x4"), std::string::npos) << r->ledger.method;
}

TEST_F(GetFromNginx, ContinueResumesAPartWithARangeRequest) {
  const std::string whole = source();
  const std::size_t have = kFileSize / 3;
  std::ofstream(dir_ / "out.bin.part", std::ios::binary)
      .write(whole.data(), static_cast<long>(have));
  DownloadOptions o = options("out.bin", net::ReceiveMethod::automatic);
  o.resume = true;
  o.force_resume = true;  // a hand-made .part has no record
  auto r = download(url("/data.bin"), o);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->resumed_from, have);
  EXPECT_EQ(r->ledger.bytes, kFileSize - have);
  EXPECT_EQ(test::read_file(dir_ / "out.bin"), whole);
}

TEST_F(GetFromNginx, ContinueOfACompletePartOnlyRenamesIt) {
  std::filesystem::copy_file(dir_ / "www/data.bin", dir_ / "out.bin.part");
  DownloadOptions o = options("out.bin", net::ReceiveMethod::automatic);
  o.resume = true;
  o.force_resume = true;
  auto r = download(url("/data.bin"), o);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->ledger.bytes, 0u);
  EXPECT_EQ(test::read_file(dir_ / "out.bin"), source());
}

TEST_F(GetFromNginx, SeveralUrlsInParallel) {
  std::vector<DownloadJob> jobs;
  for (int i = 0; i < 3; ++i) {
    jobs.push_back({url(i == 1 ? "/moved" : "/data.bin"),
                    options("out" + std::to_string(i), net::ReceiveMethod::automatic)});
  }
  jobs.push_back({url("/missing"), options("missing", net::ReceiveMethod::automatic)});
  auto results = download_all(jobs, 3);
  ASSERT_EQ(results.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(results[static_cast<std::size_t>(i)])
        << results[static_cast<std::size_t>(i)].error().message();
    EXPECT_EQ(test::read_file(dir_ / ("out" + std::to_string(i))), source());
  }
  EXPECT_FALSE(results[3]);
}

TEST_F(GetFromNginx, FollowsARedirect) {
  auto r = download(url("/moved"), options("out.bin", net::ReceiveMethod::automatic));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->final_url.target, "/data.bin");
  EXPECT_EQ(test::read_file(dir_ / "out.bin"), source());
}

TEST_F(GetFromNginx, ARedirectLoopStopsAtTheLimit) {
  DownloadOptions o = options("out.bin", net::ReceiveMethod::automatic);
  o.max_redirects = 3;
  auto r = download(url("/loop"), o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::limit_exceeded);
  EXPECT_NE(r.error().message().find("too many redirects (more than 3)"), std::string::npos)
      << r.error().message();
  EXPECT_FALSE(test::exists(dir_ / "out.bin"));
  EXPECT_FALSE(test::exists(dir_ / "out.bin.part"));
}

TEST_F(GetFromNginx, HttpErrorsAreClearAndCreateNoFile) {
  for (const char* path : {"/missing", "/boom"}) {
    auto r = download(url(path), options("out.bin", net::ReceiveMethod::automatic));
    ASSERT_FALSE(r) << path;
    const std::string expected = std::string(path) == "/boom" ? "HTTP 500" : "HTTP 404 Not Found";
    EXPECT_NE(r.error().message().find(expected), std::string::npos) << r.error().message();
    EXPECT_FALSE(test::exists(dir_ / "out.bin"));
    EXPECT_FALSE(test::exists(dir_ / "out.bin.part"));
  }
}

TEST_F(GetFromNginx, ProgressCountsEveryByte) {
  DownloadProgress progress;
  DownloadOptions o = options("out.bin", net::ReceiveMethod::automatic);
  o.progress = &progress;
  ASSERT_TRUE(download(url("/data.bin"), o));
  EXPECT_EQ(progress.bytes_done.load(), kFileSize);
  EXPECT_EQ(progress.bytes_expected.load(), kFileSize);
}

}  // namespace
}  // namespace zc::http
