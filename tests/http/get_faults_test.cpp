// zcopy get when things go wrong: a server killed mid-transfer, a full disk, a truncated or
// malformed answer, nobody listening, a name that does not resolve. Each failure must say what
// happened, keep the .part where one was written, and never create the final file.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/stat.h>

#include <cstring>
#include <thread>

#include "client_test_servers.hpp"
#include "support/capability_gate.hpp"
#include "support/sanitizer.hpp"
#include "support/small_disk.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/http/client/download.hpp"

namespace zc::http {
namespace {

using test::TempDir;

const std::size_t kFileSize = test::kSanitized ? 4 * kMiB : 16 * kMiB;

DownloadOptions options_for(const std::string& output) {
  DownloadOptions o;
  o.output = output;
  o.timeout = std::chrono::seconds(10);
  return o;
}

std::uint64_t size_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

TEST(GetFaults, ServerKilledMidTransferKeepsThePartAndContinueFinishesByteExact) {
  TempDir dir;
  std::filesystem::create_directories(dir / "www");
  test::write_random_file(dir / "www/data.bin", kFileSize, 11);
  // Slow enough (2 MB/s) that the kill lands in the middle of the body.
  auto nginx = test::start_nginx(dir.path(), dir / "www",
                                 "location /slow/ { alias " + dir / "www/" + "; limit_rate 2m; }");
  ASSERT_TRUE(nginx.running());
  const std::string output = dir / "out.bin";
  const std::string part = part_path(output);

  std::optional<Result<DownloadResult>> first;
  std::thread fetch([&] {
    first.emplace(download(*parse_url(nginx.url("/slow/data.bin")), options_for(output)));
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (size_of(part) < kFileSize / 8 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  nginx.kill_now();
  fetch.join();

  ASSERT_TRUE(first.has_value());
  ASSERT_FALSE(*first) << "the download survived its server";
  const std::string message = first->error().message();
  EXPECT_TRUE(message.find("truncated body") != std::string::npos ||
              message.find("ECONNRESET") != std::string::npos)
      << message;
  const std::uint64_t kept = size_of(part);
  EXPECT_GT(kept, 0u);
  EXPECT_LT(kept, kFileSize);
  EXPECT_FALSE(test::exists(output));

  auto restarted = test::start_nginx(dir.path(), dir / "www");
  ASSERT_TRUE(restarted.running());
  DownloadOptions o = options_for(output);
  o.resume = true;
  auto second = download(*parse_url(restarted.url("/data.bin")), o);
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_EQ(second->resumed_from, kept);
  EXPECT_EQ(test::read_file(output), test::read_file(dir / "www/data.bin"));
  EXPECT_FALSE(test::exists(part));
}

TEST(GetFaults, FullDiskIsAClearErrorAndNoFinalFile) {
  ZC_REQUIRE_CAPABILITY(Capability::cap_sys_admin);
  TempDir dir;
  std::filesystem::create_directories(dir / "www");
  test::write_random_file(dir / "www/data.bin", kFileSize, 12);
  auto nginx = test::start_nginx(dir.path(), dir / "www");
  ASSERT_TRUE(nginx.running());
  test::SmallTmpfs disk(dir / "disk", "1m");
  ASSERT_TRUE(disk.mounted()) << "mount(tmpfs): " << std::strerror(errno);
  std::vector<net::ReceiveMethod> methods = {net::ReceiveMethod::splice, net::ReceiveMethod::copy};
  if (probe(Capability::io_uring_splice).available) methods.push_back(net::ReceiveMethod::uring);
  for (net::ReceiveMethod method : methods) {
    DownloadOptions o = options_for(dir / "disk/out.bin");
    o.method = method;
    auto r = download(*parse_url(nginx.url("/data.bin")), o);
    ASSERT_FALSE(r) << to_string(method);
    EXPECT_EQ(r.error().sys_errno(), ENOSPC) << r.error().message();
    EXPECT_NE(r.error().message().find("out.bin.part"), std::string::npos) << r.error().message();
    EXPECT_FALSE(test::exists(dir / "disk/out.bin"));
    std::filesystem::remove(dir / "disk/out.bin.part");
  }
}

TEST(GetFaults, TruncatedBodyKeepsWhatArrived) {
  TempDir dir;
  test::OneShotServer server("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" +
                             std::string(400, 'x'));
  const std::string output = dir / "out.bin";
  auto r = download(*parse_url(server.url("/t")), options_for(output));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Errc::closed);
  EXPECT_NE(r.error().message().find("truncated body"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("400 of 1000"), std::string::npos) << r.error().message();
  EXPECT_EQ(size_of(part_path(output)), 400u);
  EXPECT_FALSE(test::exists(output));
}

TEST(GetFaults, ChunkedBodyIsDecodedAndTheLedgerSaysItWasNotSpliced) {
  TempDir dir;
  test::OneShotServer server(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello "
      "\r\n5\r\nworld\r\n0\r\n\r\n");
  const std::string output = dir / "out.txt";
  auto r = download(*parse_url(server.url("/c")), options_for(output));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(test::read_file(output), "hello world");
  EXPECT_EQ(r->ledger.bytes_zero_copy, 0u);
  EXPECT_NE(r->ledger.method.find("chunked"), std::string::npos);
  EXPECT_NE(r->note.find("not spliced"), std::string::npos) << r->note;
}

TEST(GetFaults, MalformedOrMissingAnswersAreClear) {
  TempDir dir;
  {
    test::OneShotServer server("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n");
    auto r = download(*parse_url(server.url("/m")), options_for(dir / "a"));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("conflicting Content-Length"), std::string::npos);
  }
  {
    test::OneShotServer server("");
    auto r = download(*parse_url(server.url("/m")), options_for(dir / "b"));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message().find("without answering"), std::string::npos)
        << r.error().message();
  }
  EXPECT_FALSE(test::exists(dir / "a"));
  EXPECT_FALSE(test::exists(dir / "a.part"));
}

TEST(GetFaults, RefusedConnectionNamesTheAddress) {
  TempDir dir;
  const std::uint16_t port = test::free_port();
  auto r = download(*parse_url("http://127.0.0.1:" + std::to_string(port) + "/x"),
                    options_for(dir / "out"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().sys_errno(), ECONNREFUSED);
  EXPECT_NE(r.error().message().find("127.0.0.1:" + std::to_string(port)), std::string::npos);
  EXPECT_FALSE(test::exists(dir / "out.part"));
}

TEST(GetFaults, UnknownHostIsClear) {
  // In a fresh network namespace nothing can leave the machine, not even a DNS query.
  ZC_REQUIRE_CAPABILITY(Capability::cap_sys_admin);
  TempDir dir;
  const std::string output = dir / "out";
  const int status = test::run_in_child([&] {
    if (::unshare(CLONE_NEWNET) != 0) return 2;
    auto r = download(*parse_url("http://no-such-host.invalid/x"), options_for(output));
    if (r) return 3;
    return r.error().message().find("resolve 'no-such-host.invalid'") != std::string::npos ? 0 : 4;
  });
  EXPECT_EQ(status, 0);
  EXPECT_FALSE(test::exists(output + ".part"));
}

}  // namespace
}  // namespace zc::http
