// `zcopy get` against the real `zcopy serve`: every client method against every server method,
// a mirrored tree, a resumed .part, parallel ranges, and one transfer across a veth pair into a
// namespace of its own. Both halves are the project's own, so any disagreement between them (a
// range, a listing, a header) shows up here.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include <filesystem>
#include <memory>

#include "http_test_support.hpp"
#include "serve_process.hpp"
#include "support/capability_gate.hpp"
#include "support/sanitizer.hpp"
#include "veth_namespace.hpp"
#include "zcopy/http/client/download.hpp"
#include "zcopy/http/client/mirror.hpp"
#include "zcopy/http/server/server.hpp"

namespace zc::test {
namespace {

constexpr std::size_t kFileBytes = scaled(4 << 20);

std::unique_ptr<http::Server> start_server(const std::string& root, net::FileSendMethod method) {
  http::ServerOptions options{.root = root};
  options.bind = {"127.0.0.1", 0};
  options.method = method;
  options.threads = 1;
  options.access_log_fd = -1;
  auto server = http::Server::start(options);
  if (!server) {
    ADD_FAILURE() << server.error().message();
    return nullptr;
  }
  return std::move(*server);
}

http::Url url_of(const http::Server& server, const std::string& target) {
  return *http::parse_url("http://127.0.0.1:" + std::to_string(server.port()) + target);
}

http::DownloadOptions options_for(const std::string& output, net::ReceiveMethod method) {
  http::DownloadOptions o;
  o.output = output;
  o.method = method;
  o.sync = false;
  o.timeout = std::chrono::seconds(20);
  return o;
}

bool send_method_available(net::FileSendMethod m) {
  return static_cast<bool>(net::choose(m));
}

bool download_method_available(net::ReceiveMethod m) {
  auto r = net::choose(m);
  return r && r->method == m;
}

TEST(GetFromServe, EveryClientMethodAgainstEveryServerMethodIsByteExact) {
  ZC_REQUIRE_CAPABILITY(zc::Capability::splice);
  TempDir root, out;
  const std::string bytes = generated_bytes(kFileBytes, 41);
  ASSERT_TRUE(write_file(root / "genome.bin", bytes));
  const std::uint64_t want = checksum(bytes);
  int pairs = 0;
  for (const auto server_method : {net::FileSendMethod::sendfile, net::FileSendMethod::splice,
                                   net::FileSendMethod::uring, net::FileSendMethod::copy}) {
    if (!send_method_available(server_method)) continue;
    auto server = start_server(root.path(), server_method);
    ASSERT_TRUE(server);
    for (const auto client_method :
         {net::ReceiveMethod::splice, net::ReceiveMethod::uring, net::ReceiveMethod::copy}) {
      if (!download_method_available(client_method)) continue;
      const std::string label = std::string(net::to_string(server_method)) + " -> " +
                                std::string(net::to_string(client_method));
      SCOPED_TRACE(label);
      const std::string output = out / ("got-" + std::to_string(pairs));
      auto r = http::download(url_of(*server, "/genome.bin"), options_for(output, client_method));
      ASSERT_TRUE(r) << r.error().message();
      EXPECT_EQ(r->file_size, bytes.size());
      EXPECT_EQ(r->ledger.bytes, bytes.size());
      EXPECT_EQ(checksum(read_file(output)), want);
      EXPECT_FALSE(std::filesystem::exists(http::part_path(output)));
      std::filesystem::remove(output);
      ++pairs;
    }
    server->stop();
    // The server counted every body byte it sent, whatever the client did with them.
    EXPECT_EQ(server->ledger().bytes % bytes.size(), 0U);
    EXPECT_GT(server->ledger().bytes, 0U);
  }
  // sendfile and copy on the server, splice and copy on the client are always there.
  EXPECT_GE(pairs, 4);
}

class GetMirrorFromServe : public ::testing::Test {
 protected:
  void SetUp() override {
    namespace fs = std::filesystem;
    fs::create_directories(www_ / "sub/deeper");
    fs::create_directories(www_ / "empty");
    files_ = {{"a.txt", 1000},
              {"name with space and 100%.txt", 1234},
              {"sub/b.bin", scaled(2 << 20)},
              {"sub/deeper/c", 0},
              {"sub/deeper/d%20literal", 77}};
    std::uint64_t seed = 1;
    for (const auto& [name, size] : files_) {
      ASSERT_TRUE(write_file(www_ / name, generated_bytes(size, seed++)));
      const utimbuf times{.actime = 1700000000,
                          .modtime = static_cast<time_t>(1700000000 + 100 * seed)};
      ASSERT_EQ(::utime((www_ / name).c_str(), &times), 0);
    }
    // A symlink that stays inside the root is served as the file it names; one that points out
    // of the root is not served at all.
    fs::create_symlink("../a.txt", www_ / "sub/link-to-a");
    ASSERT_TRUE(write_file(outside_ / "secret", "not for the mirror"));
    fs::create_symlink(outside_ / "secret", www_ / "escape");
    server_ = start_server(www_.path(), net::FileSendMethod::automatic);
    ASSERT_TRUE(server_);
  }

  Result<http::MirrorResult> run() {
    http::MirrorOptions o;
    o.output_dir = out_ / "mirror";
    std::filesystem::create_directories(o.output_dir);
    o.parallel = 2;
    o.download.sync = false;
    o.download.timeout = std::chrono::seconds(20);
    return http::mirror(url_of(*server_, "/"), o);
  }

  void expect_same(const std::string& relative, const std::string& served) {
    SCOPED_TRACE(relative);
    EXPECT_EQ(checksum(read_file(out_ / ("mirror/" + relative))),
              checksum(read_file(www_ / served)));
    struct stat local {
    }, original{};
    ASSERT_EQ(::stat((out_ / ("mirror/" + relative)).c_str(), &local), 0);
    ASSERT_EQ(::stat((www_ / served).c_str(), &original), 0);
    EXPECT_EQ(local.st_size, original.st_size);
    EXPECT_EQ(local.st_mtim.tv_sec, original.st_mtim.tv_sec);
  }

  TempDir www_, out_, outside_;
  std::vector<std::pair<std::string, std::size_t>> files_;
  std::unique_ptr<http::Server> server_;
};

TEST_F(GetMirrorFromServe, RecreatesTheTreeByteExactWithMtimesAndARerunSkipsCompleteFiles) {
  auto first = run();
  ASSERT_TRUE(first) << first.error().message();
  for (const Error& e : first->failures) ADD_FAILURE() << e.message();
  EXPECT_EQ(first->files_downloaded, files_.size() + 1);  // and the symlink inside the root
  for (const auto& [name, size] : files_) expect_same(name, name);
  expect_same("sub/link-to-a", "a.txt");
  EXPECT_TRUE(std::filesystem::is_directory(out_ / "mirror/empty"));
  EXPECT_FALSE(std::filesystem::exists(out_ / "mirror/escape"));

  // An interrupted copy and a missing file are fetched again; the complete ones are skipped.
  std::filesystem::resize_file(out_ / "mirror/sub/b.bin", 100);
  std::filesystem::remove(out_ / "mirror/name with space and 100%.txt");
  auto again = run();
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_TRUE(again->failures.empty());
  EXPECT_EQ(again->files_downloaded, 2U);
  EXPECT_EQ(again->files_skipped, files_.size() + 1 - 2);
  expect_same("sub/b.bin", "sub/b.bin");
  expect_same("name with space and 100%.txt", "name with space and 100%.txt");
}

TEST_F(GetMirrorFromServe, ARerunFetchesAFileChangedWithinTheSameSecondAndSize) {
  ASSERT_TRUE(run());
  // New bytes, the same size, and an mtime in the same second: the listing shows nothing new,
  // but the ETag (mtime in ns) changed, and the re-run asks with If-None-Match.
  const std::string changed = generated_bytes(scaled(2 << 20), 99);
  struct stat before {};
  ASSERT_EQ(::stat((www_ / "sub/b.bin").c_str(), &before), 0);
  ASSERT_TRUE(write_file(www_ / "sub/b.bin", changed));
  const timespec times[2] = {before.st_atim, {.tv_sec = before.st_mtim.tv_sec, .tv_nsec = 123}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (www_ / "sub/b.bin").c_str(), times, 0), 0);
  auto again = run();
  ASSERT_TRUE(again) << again.error().message();
  for (const Error& e : again->failures) ADD_FAILURE() << e.message();
  EXPECT_EQ(again->files_downloaded, 1U);
  EXPECT_EQ(again->files_skipped, files_.size());
  EXPECT_EQ(checksum(read_file(out_ / "mirror/sub/b.bin")), checksum(changed));
}

// Every file on a connection of its own paid a handshake per file: a worker keeps its connection.
TEST(GetFromServe, AMirrorOfThreeHundredFilesUsesOneConnectionPerWorkerAndIsByteExact) {
  TempDir root, out;
  constexpr int kFiles = 300;
  for (int i = 0; i < kFiles; ++i) {
    const std::string dir = "d" + std::to_string(i % 3);
    std::filesystem::create_directories(root / dir);
    ASSERT_TRUE(write_file(
        root / (dir + "/f" + std::to_string(i)),
        generated_bytes(static_cast<std::size_t>(i * 67), static_cast<std::uint64_t>(i))));
  }
  auto server = start_server(root.path(), net::FileSendMethod::automatic);
  ASSERT_TRUE(server);
  http::MirrorOptions o;
  o.output_dir = out / "mirror";
  o.parallel = 2;
  o.durability = http::Durability::batch;
  o.download.timeout = std::chrono::seconds(20);
  auto r = http::mirror(url_of(*server, "/"), o);
  ASSERT_TRUE(r) << r.error().message();
  for (const Error& e : r->failures) ADD_FAILURE() << e.message();
  EXPECT_EQ(r->files_downloaded, static_cast<std::uint64_t>(kFiles));
  EXPECT_EQ(r->syncs, 1U);
  for (int i = 0; i < kFiles; ++i) {
    const std::string name = "d" + std::to_string(i % 3) + "/f" + std::to_string(i);
    ASSERT_EQ(read_file(out / ("mirror/" + name)), read_file(root / name)) << name;
  }
  // One for the listings, one per worker; a connection per file would be 304.
  EXPECT_LE(server->stats().connections_accepted, 3U);
  EXPECT_EQ(r->connections_opened, server->stats().connections_accepted);
}

// A body of a few KB is copied (the pipe of a splice costs more); the ledger says which it was.
TEST(GetFromServe, ASmallBodyIsCopiedAndALargerOneSplicedAndTheLedgerSaysWhich) {
  if (!download_method_available(net::ReceiveMethod::splice)) {
    ZC_SKIP_BECAUSE("splice into a file is not available here");
  }
  TempDir root, out;
  const std::string small = generated_bytes(1000, 7);
  const std::string large = generated_bytes(256 * 1024, 8);
  ASSERT_TRUE(write_file(root / "small", small));
  ASSERT_TRUE(write_file(root / "large", large));
  auto server = start_server(root.path(), net::FileSendMethod::automatic);
  ASSERT_TRUE(server);
  auto o = options_for(out / "small", net::ReceiveMethod::splice);
  o.copy_below = http::kCopyBelow;
  auto copied = http::download(url_of(*server, "/small"), o);
  ASSERT_TRUE(copied) << copied.error().message();
  EXPECT_EQ(copied->ledger.method, "copy");
  EXPECT_EQ(copied->ledger.bytes_zero_copy, 0U);
  EXPECT_EQ(copied->ledger.bytes_copied_kernel, 2U * small.size());
  EXPECT_EQ(read_file(out / "small"), small);
  o.output = out / "large";
  auto spliced = http::download(url_of(*server, "/large"), o);
  ASSERT_TRUE(spliced) << spliced.error().message();
  EXPECT_EQ(spliced->ledger.method, "splice");
  EXPECT_EQ(spliced->ledger.bytes_zero_copy, large.size());
  EXPECT_EQ(read_file(out / "large"), large);
}

TEST(GetFromServe, ContinueFinishesATruncatedPartByteExact) {
  TempDir root, out;
  const std::string bytes = generated_bytes(kFileBytes, 42);
  ASSERT_TRUE(write_file(root / "big.bin", bytes));
  auto server = start_server(root.path(), net::FileSendMethod::automatic);
  ASSERT_TRUE(server);
  for (const auto method : {net::ReceiveMethod::splice, net::ReceiveMethod::copy}) {
    SCOPED_TRACE(std::string(net::to_string(method)));
    const std::string output = out / "big.bin";
    // What an interrupted download leaves: the first part of the body, under the .part name.
    const std::size_t kept = bytes.size() / 3 + 123;
    ASSERT_TRUE(write_file(http::part_path(output), bytes.substr(0, kept)));
    http::DownloadOptions o = options_for(output, method);
    o.resume = true;
    o.force_resume = true;  // written by hand, so without a record
    auto r = http::download(url_of(*server, "/big.bin"), o);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->resumed_from, kept);
    EXPECT_EQ(r->ledger.bytes, bytes.size() - kept);
    EXPECT_EQ(checksum(read_file(output)), checksum(bytes));
    EXPECT_FALSE(std::filesystem::exists(http::part_path(output)));
    std::filesystem::remove(output);
  }
}

TEST(GetFromServe, ParallelRangesAreByteExact) {
  TempDir root, out;
  // At least 1 MiB per range even when sanitized, or get would use fewer connections; not a
  // multiple of four, so the last range is shorter than the others.
  const std::string bytes = generated_bytes((4 << 20) + 4097, 43);
  ASSERT_TRUE(write_file(root / "big.bin", bytes));
  for (const auto server_method : {net::FileSendMethod::sendfile, net::FileSendMethod::copy}) {
    SCOPED_TRACE(std::string(net::to_string(server_method)));
    auto server = start_server(root.path(), server_method);
    ASSERT_TRUE(server);
    http::DownloadOptions o = options_for(out / "big.bin", net::ReceiveMethod::automatic);
    o.parallel_ranges = 4;
    auto r = http::download(url_of(*server, "/big.bin"), o);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_NE(r->ledger.method.find("x4"), std::string::npos) << r->ledger.method;
    EXPECT_EQ(checksum(read_file(out / "big.bin")), checksum(bytes));
    server->stop();
    // Four ranges, each sent once: the server sent the file's bytes exactly once in all.
    EXPECT_EQ(server->ledger().bytes, bytes.size());
    std::filesystem::remove(out / "big.bin");
  }
}

TEST(GetFromServe, FetchesAcrossAVethPairFromServeInAnotherNamespace) {
  ZC_REQUIRE_CAPABILITY(zc::Capability::cap_sys_admin);
  ZC_REQUIRE_CAPABILITY(zc::Capability::cap_net_admin);
  ZC_REQUIRE_PROGRAM("ip");
  TempDir root, out;
  const std::string bytes = generated_bytes(scaled(16 << 20), 44);
  ASSERT_TRUE(write_file(root / "genome.bin", bytes));
  VethNamespace veth;
  ASSERT_TRUE(veth.ok());
  ServeProcess serve({"ip", "netns", "exec", veth.name(), tool_path(), "serve", root.path(),
                      "--bind", veth.inner_ip(), "--port", "0", "--method", "sendfile"});
  ASSERT_EQ(serve.url().rfind("http://" + veth.inner_ip() + ":", 0), 0U) << serve.first_line();
  for (const auto method : {net::ReceiveMethod::splice, net::ReceiveMethod::copy}) {
    SCOPED_TRACE(std::string(net::to_string(method)));
    auto url = http::parse_url(serve.url() + "genome.bin");
    ASSERT_TRUE(url) << url.error().message();
    auto r = http::download(*url, options_for(out / "genome.bin", method));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(checksum(read_file(out / "genome.bin")), checksum(bytes));
    std::filesystem::remove(out / "genome.bin");
  }
  EXPECT_EQ(serve.stop(), 0) << serve.stderr_text();
}

}  // namespace
}  // namespace zc::test
