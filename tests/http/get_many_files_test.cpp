// Many small files: keep-alive connections against a raw python server that misbehaves on
// purpose (one that closes a kept connection instead of answering its next request, one that
// says "Connection: close" and keeps the socket open a while, so a client that ignored it would
// send it a request), and the durability modes of `zcopy get -r` against `zcopy serve`.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "bench/support/process.hpp"
#include "bench/support/serve_process.hpp"
#include "client_test_servers.hpp"
#include "get_tool_process.hpp"
#include "support/capability_gate.hpp"
#include "zcopy/http/client/download_batch.hpp"

namespace zc::http {
namespace {

using test::TempDir;

// argv: ROOT MODE LOG PORT. Files of ROOT over HTTP/1.1 with Content-Length. MODE "drop-second":
// each connection answers one request, then reads the next and closes without a word. MODE
// "close": "Connection: close", then the socket stays open 0.5 s; a request read meanwhile is
// logged as "after-close". Every answered path is logged as "answered PATH".
constexpr const char* kKeepAliveServer = R"(import os, socket, sys, threading, time
root, mode, log, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
lock = threading.Lock()
def note(line):
    with lock, open(log, 'a') as f:
        f.write(line + '\n')
def read_request(conn):
    data = b''
    while b'\r\n\r\n' not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    return data.split(b' ')[1].decode()
def serve(conn):
    with conn:
        path = read_request(conn)
        if path is None:
            return
        body = open(os.path.join(root, path.lstrip('/')), 'rb').read()
        close = 'Connection: close\r\n' if mode == 'close' else ''
        note('answered ' + path)
        conn.sendall(('HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n' % (len(body), close)).encode()
                     + body)
        if mode == 'drop-second':
            read_request(conn)
        else:
            conn.settimeout(0.5)
            try:
                if read_request(conn) is not None:
                    note('after-close')
            except socket.timeout:
                pass
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(('127.0.0.1', port))
listener.listen(64)
while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
)";

class GetKeepAlive : public ::testing::Test {
 protected:
  void start(const std::string& mode) {
    std::filesystem::create_directories(dir_ / "www");
    for (int i = 0; i < kFiles; ++i) {
      test::write_random_file(dir_ / ("www/f" + std::to_string(i)),
                              static_cast<std::size_t>(1000 + i * 3000),
                              static_cast<std::uint64_t>(i));
    }
    std::ofstream(dir_ / "server.py") << kKeepAliveServer;
    server_ = test::start_python(dir_.path(), {dir_ / "server.py", dir_ / "www", mode, log()});
    ASSERT_TRUE(server_.running()) << "the server did not start; see " << dir_ / "python.log";
  }

  std::string log() const { return dir_ / "requests.log"; }

  // Fetches every file with one worker, so each request may reuse the one before's connection.
  void fetch_all() {
    std::vector<DownloadJob> jobs;
    for (int i = 0; i < kFiles; ++i) {
      const std::string name = "f" + std::to_string(i);
      DownloadOptions o;
      o.output = dir_ / ("out-" + name);
      o.sync = false;
      o.timeout = std::chrono::seconds(10);
      jobs.push_back({*parse_url(server_.url("/" + name)), o});
    }
    const auto results = download_all(jobs, 1);
    for (int i = 0; i < kFiles; ++i) {
      const std::string name = "f" + std::to_string(i);
      const auto& r = results[static_cast<std::size_t>(i)];
      ASSERT_TRUE(r) << r.error().message();
      EXPECT_EQ(test::read_file(dir_ / ("out-" + name)), test::read_file(dir_ / ("www/" + name)));
    }
  }

  static constexpr int kFiles = 6;
  TempDir dir_;
  test::ServerProcess server_;
};

TEST_F(GetKeepAlive, AKeptConnectionClosedBeforeItsNextAnswerIsRetriedOnceOnAFreshOne) {
  start("drop-second");
  fetch_all();
  // Each file answered exactly once: nothing lost, nothing fetched twice.
  const std::string requests = test::read_file(log());
  for (int i = 0; i < kFiles; ++i) {
    const std::string line = "answered /f" + std::to_string(i) + "\n";
    const auto first = requests.find(line);
    ASSERT_NE(first, std::string::npos) << requests;
    EXPECT_EQ(requests.find(line, first + 1), std::string::npos) << requests;
  }
}

TEST_F(GetKeepAlive, AResponseWithConnectionCloseIsNeverFollowedByAnotherRequest) {
  start("close");
  fetch_all();
  std::this_thread::sleep_for(std::chrono::milliseconds(600));  // the server's 0.5 s linger
  EXPECT_EQ(test::read_file(log()).find("after-close"), std::string::npos)
      << test::read_file(log());
}

// `-o DIR/` (as a shell completes it) names each file DIR/NAME in what the tool prints, and a
// few bytes' summary gives their CPU time, not a rate scaled up to a gigabyte.
TEST(GetIntoADirectory, ATrailingSlashMakesNoDoubleSlashAndTinyFilesGiveCpuTime) {
  ZC_REQUIRE_TOOL();
  ZC_REQUIRE_PROGRAM("nginx");
  TempDir dir;
  std::filesystem::create_directories(dir / "www");
  std::filesystem::create_directories(dir / "out");
  std::filesystem::create_directories(dir / "nginx");
  std::ofstream(dir / "www/a.txt") << "first\n";
  std::ofstream(dir / "www/b.txt") << "second\n";
  auto nginx = test::start_nginx(dir / "nginx", dir / "www");
  ASSERT_TRUE(nginx.running());
  const bench::RunResult run = bench::run(
      {test::zcopy_tool(), "get", nginx.url("/a.txt"), nginx.url("/b.txt"), "-o", dir / "out/"});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(test::read_file(dir / "out/b.txt"), "second\n");
  EXPECT_NE(run.output.find(dir / "out/a.txt:"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("//"), run.output.find("://")) << run.output;
  EXPECT_EQ(run.output.find("s/GB"), std::string::npos) << run.output;
}

// A killed run with one syncfs at the end leaves complete files and .part files, never a file
// under its own name with fewer bytes than the server's.
TEST(GetBatchDurability, AKilledMirrorLeavesOnlyCompleteFilesAndPartFiles) {
  ZC_REQUIRE_TOOL();
  TempDir dir;
  constexpr int kFiles = 3000;
  for (int i = 0; i < kFiles; ++i) {
    const std::string sub = "www/d" + std::to_string(i % 10);
    std::filesystem::create_directories(dir / sub);
    test::write_random_file(dir / (sub + "/f" + std::to_string(i)),
                            static_cast<std::size_t>((i * 7919) % 20000),
                            static_cast<std::uint64_t>(i));
  }
  bench::ServeProcess serve({test::zcopy_tool(), "serve", dir / "www", "--port", "0",
                             "--access-log", dir / "access.log"});
  ASSERT_FALSE(serve.url().empty()) << serve.stderr_text();
  test::ToolProcess get({"get", "-r", "--sync=batch", "-j", "2", "-o", dir / "out", serve.url()},
                        dir.path());
  const auto complete_files = [&] {
    std::size_t n = 0;
    if (!std::filesystem::exists(dir / "out")) return n;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir / "out")) {
      if (e.is_regular_file() && !e.path().string().ends_with(".part")) ++n;
    }
    return n;
  };
  ASSERT_TRUE(test::eventually([&] { return complete_files() >= 50; })) << get.stderr_text();
  get.signal(SIGKILL);
  EXPECT_EQ(get.wait(std::chrono::seconds(20)), 128 + SIGKILL)
      << "the mirror finished before it was killed: " << get.stderr_text();
  std::size_t checked = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir / "out")) {
    if (!e.is_regular_file() || e.path().string().ends_with(".part")) continue;
    const auto relative = std::filesystem::relative(e.path(), dir / "out");
    ASSERT_EQ(test::read_file(e.path()), test::read_file(dir / "www" / relative)) << relative;
    ++checked;
  }
  EXPECT_GE(checked, 50U);
}

// The flushes each --sync mode makes, counted by strace on the real tool.
TEST(GetBatchDurability, SyncModesFlushPerFileOnceOrNever) {
  ZC_REQUIRE_TOOL();
  ZC_REQUIRE_PROGRAM("strace");
  TempDir dir;
  constexpr int kFiles = 20;
  std::filesystem::create_directories(dir / "www");
  for (int i = 0; i < kFiles; ++i) {
    test::write_random_file(dir / ("www/f" + std::to_string(i)), static_cast<std::size_t>(i * 500),
                            static_cast<std::uint64_t>(i));
  }
  bench::ServeProcess serve({test::zcopy_tool(), "serve", dir / "www", "--port", "0",
                             "--access-log", dir / "access.log"});
  ASSERT_FALSE(serve.url().empty()) << serve.stderr_text();
  const auto flushes = [&](const std::string& mode) {
    const std::string trace = dir / ("trace-" + mode);
    // LeakSanitizer cannot run under a tracer: the traced tool leaves leaks to the other tests.
    const auto run =
        bench::run({"strace", "-f", "-qq", "-e", "trace=fsync,fdatasync,syncfs", "-o", trace, "env",
                    "ASAN_OPTIONS=detect_leaks=0", test::zcopy_tool(), "get", "-r",
                    "--sync=" + mode, "-o", dir / ("out-" + mode), serve.url()});
    EXPECT_EQ(run.exit_code, 0) << run.output;
    EXPECT_NE(run.output.find(mode == "file"    ? "fsync per file"
                              : mode == "batch" ? "one syncfs"
                                                : "not synced"),
              std::string::npos)
        << run.output;
    std::map<std::string, int> calls;
    std::istringstream lines(test::read_file(trace));
    for (std::string line; std::getline(lines, line);) {
      for (const char* call : {"fsync(", "fdatasync(", "syncfs("}) {
        if (line.find(call) != std::string::npos) ++calls[call];
      }
    }
    for (int i = 0; i < kFiles; ++i) {
      const std::string name = "/f" + std::to_string(i);
      EXPECT_EQ(test::read_file(dir / ("out-" + mode) + name), test::read_file(dir / "www" + name));
    }
    return calls;
  };
  auto file = flushes("file");
  EXPECT_GE(file["fsync("], kFiles);
  auto batch = flushes("batch");
  EXPECT_EQ(batch["fsync("] + batch["fdatasync("], 0);
  EXPECT_EQ(batch["syncfs("], 1);
  auto none = flushes("none");
  EXPECT_EQ(none["fsync("] + none["fdatasync("] + none["syncfs("], 0);
}

}  // namespace
}  // namespace zc::http
