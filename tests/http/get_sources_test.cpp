// One file from several real sources: two nginx and `zcopy serve` over loopback, one of them
// killed mid-download and one slowed by limit_rate; python3 -m http.server, which ignores Range;
// a server with a different file of the same size; a resume from other mirrors; Link mirrors.
#include <gtest/gtest.h>
#include <sys/time.h>

#include <atomic>
#include <thread>

#include "bench/support/serve_process.hpp"
#include "client_test_servers.hpp"
#include "support/capability_gate.hpp"
#include "support/sanitizer.hpp"
#include "support/shell_command.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/http/client/download_sources.hpp"

namespace zc::http {
namespace {

using test::TempDir;

const std::size_t kFileSize = test::kSanitized ? 8 * kMiB : 24 * kMiB;

class GetFromSources : public ::testing::Test {
 protected:
  void SetUp() override {
    ZC_REQUIRE_PROGRAM("nginx");
    std::filesystem::create_directories(dir_ / "www");
    test::write_random_file(dir_ / "www/data.bin", kFileSize, 23);
  }

  // nginx on `root` with its files under dir_/NAME; `extra` goes inside the server block.
  test::ServerProcess nginx(const std::string& name, const std::string& root,
                            const std::string& extra = {}) {
    std::filesystem::create_directories(dir_ / name);
    auto server = test::start_nginx(dir_ / name, root, extra);
    EXPECT_TRUE(server.running()) << "nginx did not start; see " << dir_ / name;
    return server;
  }

  SourcesOptions options(const std::string& name) const {
    SourcesOptions o;
    o.download.output = dir_ / name;
    o.download.timeout = std::chrono::seconds(10);
    o.piece_size = 1 * kMiB;
    return o;
  }

  // Compared whole, not printed: a diff of megabytes says nothing.
  bool same_as_source(const std::string& name) const {
    return test::read_file(dir_ / name) == test::read_file(dir_ / "www/data.bin");
  }

  // python3 -m http.server on dir_/www: it offers no ranges and ignores a Range header.
  test::ServerProcess python_server() const {
    return test::start_python(
        dir_.path(), {"-m", "http.server", "--bind", "127.0.0.1", "--directory", dir_ / "www"});
  }

  // Two sources, one of them `bad`: the file comes whole from the other, and the bad one is
  // dropped, saying `why`, without a byte of it written.
  void expect_only_the_good_source_used(const std::vector<Url>& urls, std::size_t bad,
                                        const std::string& why) {
    auto r = download_from_sources(urls, options("out.bin"));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_TRUE(same_as_source("out.bin"));
    ASSERT_EQ(r->sources.size(), 2u);
    EXPECT_TRUE(r->sources[bad].dropped);
    EXPECT_NE(r->sources[bad].reason.find(why), std::string::npos) << r->sources[bad].reason;
    EXPECT_EQ(r->sources[bad].bytes, 0u);
    EXPECT_EQ(r->sources[1 - bad].bytes, kFileSize);
  }

  // Resumes out.bin with --continue from a fresh nginx and `zcopy serve`, both serving the file
  // (their date is what they agree on with the record); the file must come out whole.
  void resume_from_two_other_servers(SourcesResult& result) {
    auto second = nginx("nginx-second", dir_ / "www");
    bench::ServeProcess serve({test::zcopy_tool(), "serve", dir_ / "www", "--port", "0"});
    ASSERT_FALSE(serve.url().empty()) << serve.first_line();
    SourcesOptions again = options("out.bin");
    again.download.resume = true;
    const std::vector<Url> after = {*parse_url(second.url("/data.bin")),
                                    *parse_url(serve.url() + "data.bin")};
    auto r = download_from_sources(after, again);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_TRUE(same_as_source("out.bin"));
    result = std::move(*r);
  }

  TempDir dir_;
};

std::uint64_t total_bytes(const SourcesResult& r) {
  std::uint64_t total = 0;
  for (const SourceReport& s : r.sources) total += s.bytes;
  return total;
}

TEST_F(GetFromSources, AKilledAndASlowedSourceLeaveTheirPiecesToTheFastOne) {
  auto killed = nginx("nginx-killed", dir_ / "www", "limit_rate 512k;");
  auto slowed = nginx("nginx-slowed", dir_ / "www", "limit_rate 128k;");
  bench::ServeProcess serve({test::zcopy_tool(), "serve", dir_ / "www", "--port", "0"});
  ASSERT_FALSE(serve.url().empty()) << serve.first_line();
  const std::vector<Url> urls = {*parse_url(killed.url("/data.bin")),
                                 *parse_url(slowed.url("/data.bin")),
                                 *parse_url(serve.url() + "data.bin")};
  std::vector<std::atomic<std::uint64_t>> bytes(urls.size());
  SourcesOptions o = options("out.bin");
  o.source_bytes = bytes;
  // Killed once it is in the middle of its first piece: long before anyone may take it over.
  std::jthread killer([&](std::stop_token stop) {
    while (!stop.stop_requested() && bytes[0].load() < 64 * 1024) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    killed.kill_now();
  });
  auto r = download_from_sources(urls, o);
  killer.request_stop();
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(same_as_source("out.bin"));
  EXPECT_FALSE(test::exists(dir_ / "out.bin.part"));
  ASSERT_EQ(r->sources.size(), 3u);
  EXPECT_TRUE(r->sources[0].dropped);
  EXPECT_FALSE(r->sources[0].reason.empty());
  EXPECT_LT(r->sources[0].bytes, 1 * kMiB);
  EXPECT_FALSE(r->sources[1].dropped) << r->sources[1].reason;
  // An even split would have given the slowed source a third: it kept a fraction of one piece.
  EXPECT_LT(r->sources[1].bytes, 1 * kMiB);
  EXPECT_GT(r->sources[2].bytes, kFileSize - 2 * kMiB);
  // A piece taken over goes on from its last written byte: nothing is fetched twice.
  EXPECT_EQ(total_bytes(*r), kFileSize);
}

TEST_F(GetFromSources, ASourceThatIgnoresRangeIsNeverWrittenAtAnOffset) {
  ZC_REQUIRE_PROGRAM("python3");
  auto python = python_server();
  ASSERT_TRUE(python.running());
  auto ranged = nginx("nginx", dir_ / "www");
  const std::vector<Url> urls = {*parse_url(python.url("/data.bin")),
                                 *parse_url(ranged.url("/data.bin"))};
  expect_only_the_good_source_used(urls, 0, "byte ranges");
}

TEST_F(GetFromSources, ASourceThatOffersRangesButSendsTheWholeFileIsDroppedUnwritten) {
  ZC_REQUIRE_PROGRAM("python3");
  auto liar = test::start_range_server(dir_.path(), dir_ / "www");
  ASSERT_TRUE(liar.running());
  auto ranged = nginx("nginx", dir_ / "www");
  const std::vector<Url> urls = {*parse_url(ranged.url("/data.bin")),
                                 *parse_url(liar.url("/data.bin?norange"))};
  expect_only_the_good_source_used(urls, 1, "whole file");
}

TEST_F(GetFromSources, AStalledSourceIsDroppedAndItsPieceFetchedElsewhere) {
  ZC_REQUIRE_PROGRAM("python3");
  auto trickle = test::start_range_server(dir_.path(), dir_ / "www");
  ASSERT_TRUE(trickle.running());
  auto ranged = nginx("nginx", dir_ / "www");
  const std::vector<Url> urls = {*parse_url(ranged.url("/data.bin")),
                                 *parse_url(trickle.url("/data.bin?trickle"))};
  SourcesOptions o = options("out.bin");
  // Shorter than kMinStealAge, so the stall rule, not a take-over, ends the trickle.
  o.download.timeout = std::chrono::milliseconds(700);
  auto r = download_from_sources(urls, o);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(same_as_source("out.bin"));
  ASSERT_EQ(r->sources.size(), 2u);
  EXPECT_TRUE(r->sources[1].dropped);
  EXPECT_NE(r->sources[1].reason.find("stalled"), std::string::npos) << r->sources[1].reason;
  EXPECT_EQ(total_bytes(*r), kFileSize);
}

TEST_F(GetFromSources, ADifferentFileOfTheSameSizeIsDroppedBeforeAnyOfItsBytes) {
  std::filesystem::create_directories(dir_ / "other");
  test::write_random_file(dir_ / "other/data.bin", kFileSize, 99);
  // Another version of the file: same size, an older date.
  const timeval older[2] = {{.tv_sec = 1'600'000'000, .tv_usec = 0},
                            {.tv_sec = 1'600'000'000, .tv_usec = 0}};
  ASSERT_EQ(::utimes((dir_ / "other/data.bin").c_str(), older), 0);
  auto right = nginx("nginx-right", dir_ / "www");
  auto wrong = nginx("nginx-wrong", dir_ / "other");
  const std::vector<Url> urls = {*parse_url(right.url("/data.bin")),
                                 *parse_url(wrong.url("/data.bin"))};
  expect_only_the_good_source_used(urls, 1, "Last-Modified");
}

TEST_F(GetFromSources, AnInterruptedDownloadResumesFromOtherMirrors) {
  auto first = nginx("nginx-first", dir_ / "www", "limit_rate 2m;");
  std::atomic<bool> stop{false};
  std::vector<std::atomic<std::uint64_t>> bytes(1);
  SourcesOptions o = options("out.bin");
  o.download.stop = &stop;
  o.source_bytes = bytes;
  std::jthread stopper([&](std::stop_token token) {
    while (!token.stop_requested() && bytes[0].load() < 2 * kMiB) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    stop = true;
  });
  const std::vector<Url> before = {*parse_url(first.url("/data.bin"))};
  auto interrupted = download_from_sources(before, o);
  ASSERT_FALSE(interrupted);
  EXPECT_NE(interrupted.error().message().find("interrupted"), std::string::npos)
      << interrupted.error().message();
  ASSERT_TRUE(test::exists(dir_ / "out.bin.part.zcopy"));
  first.kill_now();

  SourcesResult r;
  ASSERT_NO_FATAL_FAILURE(resume_from_two_other_servers(r));
  EXPECT_GE(r.download.resumed_from, 1 * kMiB);
  EXPECT_EQ(total_bytes(r), kFileSize - r.download.resumed_from);
}

TEST_F(GetFromSources, WhatASingleStreamLeftIsSharedByEverySourceOnResume) {
  auto first = nginx("nginx-first", dir_ / "www", "limit_rate 2m;");
  DownloadProgress progress;
  std::atomic<bool> stop{false};
  DownloadOptions single = options("out.bin").download;
  single.stop = &stop;
  single.progress = &progress;
  std::jthread stopper([&](std::stop_token token) {
    while (!token.stop_requested() && progress.bytes_done.load() < 2 * kMiB) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    stop = true;
  });
  ASSERT_FALSE(download(*parse_url(first.url("/data.bin")), single));
  ASSERT_TRUE(test::exists(dir_ / "out.bin.part.zcopy"));

  SourcesResult r;
  ASSERT_NO_FATAL_FAILURE(resume_from_two_other_servers(r));
  EXPECT_GT(r.download.resumed_from, 0u);
  // The one range the stream left is cut into pieces, so both sources start on one at once.
  EXPECT_GT(r.sources[0].bytes, 0u);
  EXPECT_GT(r.sources[1].bytes, 0u);
  EXPECT_EQ(total_bytes(r), kFileSize - r.download.resumed_from);
}

TEST_F(GetFromSources, MirrorsNamedInLinkFieldsBecomeSources) {
  auto mirror = nginx("nginx", dir_ / "www");
  bench::ServeProcess serve(
      {test::zcopy_tool(), "serve", dir_ / "www", "--port", "0", "--mirror", mirror.url("/")});
  ASSERT_FALSE(serve.url().empty()) << serve.first_line();
  const std::vector<Url> urls = {*parse_url(serve.url() + "data.bin")};
  auto r = download_from_sources(urls, options("out.bin"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(same_as_source("out.bin"));
  ASSERT_EQ(r->sources.size(), 2u);
  EXPECT_EQ(r->sources[1].url, mirror.url("/data.bin"));
  EXPECT_FALSE(r->sources[1].dropped) << r->sources[1].reason;

  SourcesOptions without = options("alone.bin");
  without.follow_links = false;
  auto alone = download_from_sources(urls, without);
  ASSERT_TRUE(alone) << alone.error().message();
  EXPECT_EQ(alone->sources.size(), 1u);
}

TEST_F(GetFromSources, TheToolReportsEachSourcesBytesAndWhyOneWasDropped) {
  ZC_REQUIRE_PROGRAM("python3");
  auto python = python_server();
  ASSERT_TRUE(python.running());
  auto ranged = nginx("nginx", dir_ / "www");
  const bench::RunResult run =
      bench::run({test::zcopy_tool(), "get", ranged.url("/data.bin"), "--mirror",
                  python.url("/data.bin"), "-o", dir_ / "out.bin", "--json"});
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(same_as_source("out.bin"));
  EXPECT_NE(run.output.find("\"bench\":\"get-source\",\"file\":\"" + (dir_ / "out.bin") +
                            "\",\"url\":\"" + ranged.url("/data.bin") +
                            "\",\"bytes\":" + std::to_string(kFileSize) + ",\"dropped\":false"),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("\"bench\":\"get\""), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("\"url\":\"" + python.url("/data.bin") +
                            "\",\"bytes\":0,\"dropped\":true,\"reason\":\"offers no byte ranges"),
            std::string::npos)
      << run.output;
}

TEST_F(GetFromSources, SeveralUrlsAreSourcesOfOneFileOnlyWhenOutputNamesAFile) {
  auto a = nginx("nginx-a", dir_ / "www");
  auto b = nginx("nginx-b", dir_ / "www");
  const bench::RunResult one = bench::run(
      {test::zcopy_tool(), "get", a.url("/data.bin"), b.url("/data.bin"), "-o", dir_ / "one.bin"});
  EXPECT_EQ(one.exit_code, 0) << one.output;
  EXPECT_TRUE(same_as_source("one.bin"));
  EXPECT_NE(one.output.find("from 2 sources"), std::string::npos) << one.output;

  // Into a directory they stay two downloads, which here want the same name.
  std::filesystem::create_directories(dir_ / "into");
  const bench::RunResult two = bench::run(
      {test::zcopy_tool(), "get", a.url("/data.bin"), b.url("/data.bin"), "-o", dir_ / "into"});
  EXPECT_EQ(two.exit_code, 2) << two.output;
  EXPECT_NE(two.output.find("would both write"), std::string::npos) << two.output;
}

}  // namespace
}  // namespace zc::http
