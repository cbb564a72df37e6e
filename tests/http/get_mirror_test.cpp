// zcopy get -r against a python3 http.server subclass that answers directory URLs asked with
// `Accept: application/json` in the listing format of `zcopy serve`. A directory holding a
// .listing.json gets that file verbatim instead, to send hostile names.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <utime.h>

#include "client_test_servers.hpp"
#include "get_tool_process.hpp"
#include "support/capability_gate.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/http/client/mirror.hpp"
#include "zcopy/http/client/part_record.hpp"

namespace zc::http {
namespace {

using test::TempDir;

constexpr const char* kListingServer = R"(import http.server, json, os, sys, urllib.parse
class Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        if path.endswith('/') and 'application/json' in self.headers.get('Accept', ''):
            local = self.translate_path(self.path)
            override = os.path.join(local, '.listing.json')
            if os.path.exists(override):
                body = open(override, 'rb').read()
            else:
                entries = []
                for e in sorted(os.scandir(local), key=lambda e: e.name):
                    st = e.stat()
                    if e.is_dir():
                        entries.append({'name': e.name, 'type': 'dir', 'mtime': int(st.st_mtime)})
                    else:
                        entries.append({'name': e.name, 'type': 'file', 'size': st.st_size,
                                        'mtime': int(st.st_mtime)})
                body = json.dumps({'path': path, 'entries': entries}).encode()
            self.send_response(200)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()
    def log_message(self, *args):
        pass
root = sys.argv[1]
server = http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[2])),
                                         lambda *a, **k: Handler(*a, directory=root, **k))
server.serve_forever()
)";

class GetMirror : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_ / "www/sub/deeper");
    test::write_random_file(dir_ / "www/a.txt", 1000, 1);
    test::write_random_file(dir_ / "www/name with space.txt", 10, 2);
    test::write_random_file(dir_ / "www/sub/b.bin", 2 * kMiB, 3);
    test::write_random_file(dir_ / "www/sub/deeper/c", 0, 4);
    for (const char* f : {"a.txt", "name with space.txt", "sub/b.bin", "sub/deeper/c"}) {
      const auto modified = static_cast<time_t>(1700000000 + std::string(f).size());
      const utimbuf times{.actime = 1700000000, .modtime = modified};
      ::utime((dir_ / "www/" + f).c_str(), &times);
    }
    std::ofstream(dir_ / "server.py") << kListingServer;
    server_ = test::start_python(dir_.path(), {dir_ / "server.py", dir_ / "www"});
    ASSERT_TRUE(server_.running())
        << "the listing server did not start; see " << dir_ / "python.log";
  }

  Result<MirrorResult> run(const std::string& path) {
    MirrorOptions o;
    o.output_dir = dir_ / "out";
    o.parallel = 2;
    o.download.timeout = std::chrono::seconds(10);
    return mirror(*parse_url(server_.url(path)), o);
  }

  void expect_same(const std::string& relative) {
    EXPECT_EQ(test::read_file(dir_ / "out/" + relative), test::read_file(dir_ / "www/" + relative))
        << relative;
    struct stat local {
    }, served{};
    ASSERT_EQ(::stat((dir_ / "out/" + relative).c_str(), &local), 0) << relative;
    ASSERT_EQ(::stat((dir_ / "www/" + relative).c_str(), &served), 0);
    EXPECT_EQ(local.st_mtim.tv_sec, served.st_mtim.tv_sec) << relative;
  }

  TempDir dir_;
  test::ServerProcess server_;
};

TEST_F(GetMirror, RecreatesTheTreeByteExactWithTheListedMtimes) {
  auto r = run("/");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->failures.empty());
  EXPECT_EQ(r->files_downloaded, 4u);
  EXPECT_EQ(r->directories, 3u);
  for (const char* f : {"a.txt", "name with space.txt", "sub/b.bin", "sub/deeper/c"})
    expect_same(f);
}

TEST_F(GetMirror, ARerunSkipsCompleteFilesAndFetchesTheRest) {
  ASSERT_TRUE(run("/"));
  std::filesystem::resize_file(dir_ / "out/sub/b.bin", 100);  // an interrupted copy
  std::filesystem::remove(dir_ / "out/a.txt");
  auto r = run("/");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->files_downloaded, 2u);
  EXPECT_EQ(r->files_skipped, 2u);
  expect_same("a.txt");
  expect_same("sub/b.bin");
}

TEST_F(GetMirror, HostileNamesAreRefusedByNameAndNothingIsWrittenOutside) {
  std::filesystem::create_directories(dir_ / "www/evil");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"("..")", "'..'"},
      {R"("../escaped")", "'../escaped'"},
      {R"("/tmp/escaped")", "'/tmp/escaped'"},
      {R"("")", "''"},
      {R"("a\u0000b")", "'a\\0b'"},
  };
  for (const auto& [json_name, shown] : cases) {
    std::ofstream(dir_ / "www/evil/.listing.json")
        << R"({"path":"/evil/","entries":[{"name":)" << json_name
        << R"(,"type":"file","size":1000,"mtime":1700000000}]})";
    auto r = run("/evil/");
    ASSERT_FALSE(r) << json_name;
    EXPECT_NE(r.error().message().find("mirror entry " + shown), std::string::npos)
        << r.error().message();
  }
  EXPECT_FALSE(test::exists(dir_ / "escaped"));
  EXPECT_FALSE(test::exists("/tmp/escaped"));
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "out"));
}

TEST_F(GetMirror, ASymlinkedDirectoryInTheOutputIsNotFollowed) {
  std::filesystem::create_directories(dir_ / "out");
  std::filesystem::create_directories(dir_ / "elsewhere");
  std::filesystem::create_directory_symlink(dir_ / "elsewhere", dir_ / "out/sub");
  auto r = run("/");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("not a directory"), std::string::npos) << r.error().message();
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "elsewhere"));
}

TEST_F(GetMirror, ANonDirectoryUrlIsRefused) {
  auto r = run("/a.txt");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("must end in '/'"), std::string::npos);
}

// The tool mirrors from a server that sends one file slowly; while it does, the output's
// subdirectory is swapped for a symlink to a directory outside. Nothing may land there.
TEST(GetMirrorRace, ADirectorySwappedForASymlinkMidRunWritesNothingOutside) {
  ZC_REQUIRE_TOOL();
  TempDir dir;
  std::filesystem::create_directories(dir / "www/sub");
  std::filesystem::create_directories(dir / "outside");
  test::write_random_file(dir / "www/slow-first.bin", 128 * 1024, 51);  // two seconds
  test::write_random_file(dir / "www/sub/b.bin", 1000, 52);
  test::write_random_file(dir / "www/sub/slow-c.bin", 128 * 1024, 53);
  auto server = test::start_range_server(dir.path(), dir / "www");
  ASSERT_TRUE(server.running()) << "the range server did not start; see " << dir / "python.log";
  const std::string out = dir / "out";
  // One file at a time, the root's first: the tree exists before any file is fetched.
  test::ToolProcess get({"get", "-r", "-j", "1", "-o", out, server.url("/")}, dir.path());
  ASSERT_TRUE(test::eventually([&] { return test::exists(out + "/slow-first.bin.part"); }))
      << get.stderr_text();
  std::filesystem::rename(out + "/sub", out + "/sub.moved");
  std::filesystem::create_directory_symlink(dir / "outside", out + "/sub");
  const int code = get.wait(std::chrono::seconds(60));
  EXPECT_EQ(code, 1) << "the files under the swapped directory must fail: " << get.stderr_text();
  EXPECT_TRUE(std::filesystem::is_empty(dir / "outside")) << get.stderr_text();
  EXPECT_TRUE(test::exists(out + "/slow-first.bin"));
}

// A directory swapped while its file is being written: the write stays in the directory that was
// opened, which is still inside the output tree.
TEST(GetMirrorRace, ADirectorySwappedWhileItsFileIsWrittenKeepsTheFileInside) {
  ZC_REQUIRE_TOOL();
  TempDir dir;
  std::filesystem::create_directories(dir / "www/sub");
  std::filesystem::create_directories(dir / "outside");
  test::write_random_file(dir / "www/sub/slow-c.bin", 128 * 1024, 54);
  auto server = test::start_range_server(dir.path(), dir / "www");
  ASSERT_TRUE(server.running()) << "the range server did not start; see " << dir / "python.log";
  const std::string out = dir / "out";
  test::ToolProcess get({"get", "-r", "-o", out, server.url("/")}, dir.path());
  ASSERT_TRUE(test::eventually([&] { return test::exists(out + "/sub/slow-c.bin.part"); }))
      << get.stderr_text();
  std::filesystem::rename(out + "/sub", out + "/sub.moved");
  std::filesystem::create_directory_symlink(dir / "outside", out + "/sub");
  EXPECT_EQ(get.wait(std::chrono::seconds(60)), 0) << get.stderr_text();
  EXPECT_TRUE(std::filesystem::is_empty(dir / "outside")) << get.stderr_text();
  EXPECT_EQ(test::read_file(out + "/sub.moved/slow-c.bin"),
            test::read_file(dir / "www/sub/slow-c.bin"));
}

// A .part resumed from a server that sends no validator is complete but unverified: it must not
// get the listed mtime, so the next run fetches it again instead of trusting it.
TEST(GetMirrorResume, AFileResumedWithoutAValidatorIsNotTakenAsComplete) {
  TempDir dir;
  std::filesystem::create_directories(dir / "www");
  std::filesystem::create_directories(dir / "out");
  const std::size_t size = 1 * kMiB;
  test::write_random_file(dir / "www/f.bin", size, 55);
  auto server = test::start_range_server(dir.path(), dir / "www", {"--no-validators"});
  ASSERT_TRUE(server.running()) << "the range server did not start; see " << dir / "python.log";
  // What an interrupted mirror left: half the file and its record, without a validator.
  const std::string whole = test::read_file(dir / "www/f.bin");
  test::write_file_bytes(dir / "out/f.bin.part", whole.substr(0, size / 2));
  PartRecord record;
  record.size = size;
  record.ranges.push_back({.first = 0, .last = size - 1, .done = size / 2});
  test::write_file_bytes(dir / "out/f.bin.part.zcopy", format_part_record(record));

  MirrorOptions o;
  o.output_dir = dir / "out";
  o.download.timeout = std::chrono::seconds(10);
  auto first = mirror(*parse_url(server.url("/")), o);
  ASSERT_TRUE(first) << first.error().message();
  ASSERT_TRUE(first->failures.empty()) << first->failures[0].message();
  EXPECT_EQ(first->files_downloaded, 1u);
  EXPECT_EQ(test::read_file(dir / "out/f.bin"), whole);

  auto again = mirror(*parse_url(server.url("/")), o);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(again->files_downloaded, 1u) << "an unverified resume was taken as complete";
  EXPECT_EQ(again->files_skipped, 0u);

  // Fetched whole this time, it is verified by being whole: the third run skips it.
  auto third = mirror(*parse_url(server.url("/")), o);
  ASSERT_TRUE(third) << third.error().message();
  EXPECT_EQ(third->files_skipped, 1u);
}

// Two listed files where one is the other's download name would share a .part.
TEST(GetMirrorResume, AFileNamedAfterAnotherFilesPartIsNotMirrored) {
  TempDir dir;
  std::filesystem::create_directories(dir / "www");
  test::write_random_file(dir / "www/a", 5000, 56);
  test::write_random_file(dir / "www/a.part", 7000, 57);
  auto server = test::start_range_server(dir.path(), dir / "www");
  ASSERT_TRUE(server.running()) << "the range server did not start; see " << dir / "python.log";
  MirrorOptions o;
  o.output_dir = dir / "out";
  o.parallel = 2;
  o.download.timeout = std::chrono::seconds(10);
  auto r = mirror(*parse_url(server.url("/")), o);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->failures.size(), 1u);
  EXPECT_NE(r->failures[0].message().find("a.part is the name another file"), std::string::npos)
      << r->failures[0].message();
  EXPECT_EQ(test::read_file(dir / "out/a"), test::read_file(dir / "www/a"));
}

}  // namespace
}  // namespace zc::http
