// The server in this process against a bare socket client: protocol behaviour, limits, safety.
#include "zcopy/http/server/server.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "http_test_support.hpp"
#include "support/capability_gate.hpp"
#include "support/sanitizer.hpp"

using namespace std::chrono_literals;

namespace zc::http {
namespace {

using test::fetch;
using test::RawClient;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(root_.path().empty());
    ASSERT_TRUE(test::write_file(root_ / "a.txt", "hello, world\n"));
    ASSERT_EQ(::mkdir((root_ / "sub").c_str(), 0755), 0);
    ASSERT_TRUE(test::write_file(root_ / "sub/b.bin", test::generated_bytes(100000, 1)));
  }

  void start(ServerOptions options = {}) {
    options.root = root_.path();
    options.bind = {"127.0.0.1", 0};
    if (options.threads == 0) options.threads = 2;
    access_log_ = Fd::adopt(
        ::open((logs_ / "access").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    error_log_ = Fd::adopt(
        ::open((logs_ / "error").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    options.access_log_fd = access_log_.get();
    options.error_log_fd = error_log_.get();
    auto server = Server::start(options);
    ASSERT_TRUE(server) << server.error().message();
    server_ = std::move(*server);
    port_ = server_->port();
  }

  std::string get(const std::string& target, const std::string& fields = "") {
    return "GET " + target + " HTTP/1.1\r\nHost: t\r\n" + fields + "\r\n";
  }

  test::TempDir root_;
  test::TempDir logs_;
  Fd access_log_;
  Fd error_log_;
  std::unique_ptr<Server> server_;
  std::uint16_t port_ = 0;
};

TEST_F(ServerTest, ServesAFileWithItsMetadata) {
  start();
  auto r = fetch(port_, get("/a.txt"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello, world\n");
  EXPECT_EQ(r->field("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(r->field("content-length"), "13");
  EXPECT_EQ(r->field("accept-ranges"), "bytes");
  EXPECT_FALSE(r->field("etag").empty());
  EXPECT_FALSE(r->field("last-modified").empty());
  EXPECT_FALSE(r->field("date").empty());
}

TEST_F(ServerTest, EveryMethodSendsTheFileByteExactAndKeepsAnHonestLedger) {
  const std::size_t size = test::kSanitized ? 4 << 20 : 24 << 20;
  const std::string bytes = test::generated_bytes(size, 7);
  ASSERT_TRUE(test::write_file(root_ / "big.bin", bytes));
  for (const net::FileSendMethod method :
       {net::FileSendMethod::sendfile, net::FileSendMethod::splice, net::FileSendMethod::uring,
        net::FileSendMethod::copy}) {
    if (method == net::FileSendMethod::uring) {
      ZC_REQUIRE_CAPABILITY(Capability::io_uring_splice);
    }
    SCOPED_TRACE(std::string(to_string(method)));
    ServerOptions options;
    options.method = method;
    start(options);
    auto r = fetch(port_, get("/big.bin"));
    ASSERT_TRUE(r) << test::read_file(logs_ / "error");
    EXPECT_EQ(r->status, 200);
    ASSERT_EQ(r->body.size(), size);
    EXPECT_EQ(test::checksum(r->body), test::checksum(bytes));
    server_->stop();
    const TransferLedger ledger = server_->ledger();
    EXPECT_EQ(ledger.method, to_string(method));
    EXPECT_EQ(ledger.bytes, size);
    EXPECT_EQ(ledger.bytes_copied_user, 0U);
    if (method == net::FileSendMethod::copy) {
      // read + send; the receiver's copy is in the receiver's ledger, not ours.
      EXPECT_EQ(ledger.bytes_zero_copy, 0U);
      EXPECT_EQ(ledger.bytes_copied_kernel, 2 * size);
    } else {
      EXPECT_EQ(ledger.bytes_zero_copy, size);
      EXPECT_EQ(ledger.bytes_copied_kernel, 0U);
    }
    server_.reset();
  }
}

TEST_F(ServerTest, KeepsConnectionsAliveAndAnswersPipelinedRequestsInOrder) {
  start();
  RawClient client(port_);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.send(get("/a.txt") + "HEAD /a.txt HTTP/1.1\r\nHost: t\r\n\r\n" +
                          get("/sub/b.bin") + get("/missing")));
  auto first = client.read_response();
  auto head = client.read_response(true);
  auto third = client.read_response();
  auto fourth = client.read_response();
  ASSERT_TRUE(first && head && third && fourth);
  EXPECT_EQ(first->body, "hello, world\n");
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->field("content-length"), "13");
  EXPECT_EQ(third->body.size(), 100000U);
  EXPECT_EQ(fourth->status, 404);
  // Still open: one more request on the same connection.
  ASSERT_TRUE(client.send(get("/a.txt", "Connection: close\r\n")));
  auto last = client.read_response();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->field("connection"), "close");
  EXPECT_TRUE(client.closed_by_server());
  EXPECT_EQ(server_->stats().connections_accepted, 1U);
}

TEST_F(ServerTest, AnswersConditionalRequestsWith304) {
  start();
  auto r = fetch(port_, get("/a.txt"));
  ASSERT_TRUE(r);
  const std::string etag = r->field("etag");
  const std::string modified = r->field("last-modified");
  auto by_tag = fetch(port_, get("/a.txt", "If-None-Match: \"x\", " + etag + "\r\n"));
  ASSERT_TRUE(by_tag);
  EXPECT_EQ(by_tag->status, 304);
  EXPECT_TRUE(by_tag->body.empty());
  EXPECT_EQ(by_tag->field("etag"), etag);
  auto weak = fetch(port_, get("/a.txt", "If-None-Match: W/" + etag + "\r\n"));
  EXPECT_EQ(weak->status, 304);
  auto by_date = fetch(port_, get("/a.txt", "If-Modified-Since: " + modified + "\r\n"));
  EXPECT_EQ(by_date->status, 304);
  auto old = fetch(port_, get("/a.txt", "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"));
  EXPECT_EQ(old->status, 200);
  // If-None-Match wins over If-Modified-Since.
  auto other = fetch(
      port_, get("/a.txt", "If-None-Match: \"other\"\r\nIf-Modified-Since: " + modified + "\r\n"));
  EXPECT_EQ(other->status, 200);
}

TEST_F(ServerTest, ServesOneByteRangeAndRefusesUnsatisfiableOnes) {
  start();
  auto r = fetch(port_, get("/a.txt", "Range: bytes=7-11\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(r->body, "world");
  EXPECT_EQ(r->field("content-range"), "bytes 7-11/13");
  auto suffix = fetch(port_, get("/a.txt", "Range: bytes=-6\r\n"));
  EXPECT_EQ(suffix->body, "world\n");
  auto beyond = fetch(port_, get("/a.txt", "Range: bytes=13-\r\n"));
  EXPECT_EQ(beyond->status, 416);
  EXPECT_EQ(beyond->field("content-range"), "bytes */13");
  auto several = fetch(port_, get("/a.txt", "Range: bytes=0-1,3-4\r\n"));
  EXPECT_EQ(several->status, 200);
  auto stale = fetch(port_, get("/a.txt", "Range: bytes=0-1\r\nIf-Range: \"stale\"\r\n"));
  EXPECT_EQ(stale->status, 200);
  EXPECT_EQ(stale->body.size(), 13U);
  auto fresh =
      fetch(port_, get("/a.txt", "Range: bytes=0-1\r\nIf-Range: " + r->field("etag") + "\r\n"));
  EXPECT_EQ(fresh->status, 206);
}

TEST_F(ServerTest, UsesTheErrorStatusesForWhatTheyMean) {
  ASSERT_EQ(::mkfifo((root_ / "fifo").c_str(), 0644), 0);
  ServerOptions options;
  options.max_head_bytes = 4096;
  start(options);
  auto post = fetch(port_, "POST /a.txt HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->field("allow"), "GET, HEAD");
  auto body = fetch(port_, get("/a.txt", "Content-Length: 5\r\n") + "hello");
  EXPECT_EQ(body->status, 413);
  auto garbage = fetch(port_, "GET / HTTP/1.1\r\nHost: t\r\n folded\r\n\r\n");
  EXPECT_EQ(garbage->status, 400);
  EXPECT_EQ(garbage->field("connection"), "close");
  auto huge = fetch(port_, get("/a.txt", "X-Big: " + std::string(8000, 'x') + "\r\n"));
  EXPECT_EQ(huge->status, 431);
  EXPECT_EQ(fetch(port_, get("/nope"))->status, 404);
  EXPECT_EQ(fetch(port_, get("/fifo"))->status, 403);
  EXPECT_EQ(fetch(port_, get("/a.txt/"))->status, 404);
}

TEST_F(ServerTest, NothingOutsideTheRootIsReachable) {
  test::TempDir outside;
  ASSERT_TRUE(test::write_file(outside / "secret", "secret"));
  ASSERT_EQ(::symlink((outside / "secret").c_str(), (root_ / "abs_out").c_str()), 0);
  const std::string climb = "../" + outside.path().substr(1) + "/secret";
  ASSERT_EQ(::symlink(("../" + climb).c_str(), (root_ / "sub/rel_out").c_str()), 0);
  ASSERT_EQ(::symlink("../a.txt", (root_ / "sub/inside").c_str()), 0);
  start();
  for (const std::string& target : std::vector<std::string>{
           "/../secret", "/%2e%2e/secret", "/sub/..%2f..%2fsecret", "/a.txt%00.html", "/" + climb,
           "/abs_out", "/sub/rel_out", "//" + outside.path().substr(1) + "/secret",
           std::string("http://t") + outside.path() + "/secret"}) {
    auto r = fetch(port_, get(target));
    ASSERT_TRUE(r) << target;
    EXPECT_TRUE(r->status == 400 || r->status == 403 || r->status == 404)
        << target << " " << r->status;
    EXPECT_EQ(r->body.find("secret"), std::string::npos) << target;
  }
  auto inside = fetch(port_, get("/sub/inside"));
  EXPECT_EQ(inside->status, 200);
  EXPECT_EQ(inside->body, "hello, world\n");
}

TEST_F(ServerTest, RedirectsDirectoriesToTheirSlashAndListsThemAsJson) {
  start();
  auto moved = fetch(port_, get("/sub?x=1"));
  EXPECT_EQ(moved->status, 301);
  EXPECT_EQ(moved->field("location"), "/sub/?x=1");
  auto json = fetch(port_, get("/sub/", "Accept: application/json\r\n"));
  ASSERT_TRUE(json);
  EXPECT_EQ(json->status, 200);
  EXPECT_EQ(json->field("content-type"), "application/json");
  EXPECT_EQ(
      json->body.rfind("{\"path\":\"/sub/\",\"entries\":[{\"name\":\"b.bin\",\"type\":\"file\","
                       "\"size\":100000,\"mtime\":",
                       0),
      0U)
      << json->body;
  auto html = fetch(port_, get("/"));
  EXPECT_EQ(html->field("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(html->body.find("href=\"sub/\""), std::string::npos);
}

TEST_F(ServerTest, WritesOneCommonLogFormatLinePerRequest) {
  start();
  ASSERT_TRUE(fetch(port_, get("/a.txt")));
  ASSERT_TRUE(fetch(port_, get("/nope")));
  ASSERT_TRUE(fetch(port_, "HEAD /a.txt HTTP/1.0\r\n\r\n", true));
  server_->stop();
  const std::string log = test::read_file(logs_ / "access");
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 3);
  EXPECT_NE(log.find("127.0.0.1 - - ["), std::string::npos);
  EXPECT_NE(log.find(" +0000] \"GET /a.txt HTTP/1.1\" 200 13\n"), std::string::npos) << log;
  EXPECT_NE(log.find("\"GET /nope HTTP/1.1\" 404 "), std::string::npos) << log;
  EXPECT_NE(log.find("\"HEAD /a.txt HTTP/1.0\" 200 -\n"), std::string::npos) << log;
}

TEST_F(ServerTest, ConnectionsBeyondTheLimitGet503) {
  ServerOptions options;
  options.threads = 1;
  options.max_connections = 2;
  start(options);
  RawClient a(port_);
  RawClient b(port_);
  for (int i = 0; i < 200 && server_->stats().connections_open < 2; ++i)
    std::this_thread::sleep_for(10ms);
  ASSERT_EQ(server_->stats().connections_open, 2U);
  auto rejected = fetch(port_, get("/a.txt"));
  ASSERT_TRUE(rejected);
  EXPECT_EQ(rejected->status, 503);
  ASSERT_TRUE(a.send(get("/a.txt")));
  EXPECT_EQ(a.read_response()->status, 200);
}

TEST_F(ServerTest, ASlowlorisClientIsCutOffByTheHeaderTimeout) {
  ServerOptions options;
  options.header_timeout = 1s;
  options.idle_timeout = 600s;
  start(options);
  RawClient client(port_);
  ASSERT_TRUE(client.connected());
  // A head that never ends, one byte every 100 ms: each byte comes well within the header
  // timeout, so only a deadline that trickled bytes cannot extend cuts the client off, after about
  // a second. 60 s is a bound no loaded machine reaches and an extendable deadline always does
  // (the head limit is 27 minutes of bytes away).
  const std::string start_of_head = "GET /a.txt HTTP/1.1\r\nHost: t\r\nX-Slow: ";
  const auto give_up = std::chrono::steady_clock::now() + 60s;
  bool cut_off = false;
  for (std::size_t i = 0; !cut_off && std::chrono::steady_clock::now() < give_up; ++i) {
    const char byte = i < start_of_head.size() ? start_of_head[i] : 'x';
    if (!client.send(std::string(1, byte))) {
      cut_off = true;
      break;
    }
    pollfd p{.fd = client.fd(), .events = POLLIN | POLLRDHUP, .revents = 0};
    if (::poll(&p, 1, 100) > 0) cut_off = client.closed_by_server();
  }
  EXPECT_TRUE(cut_off) << "a client trickling a byte every 100 ms was still connected after 60 s";
  EXPECT_GE(server_->stats().timeouts, 1U);
}

TEST_F(ServerTest, IdleKeepAliveConnectionsAreClosedAfterTheIdleTimeout) {
  ServerOptions options;
  options.idle_timeout = 500ms;
  start(options);
  // Closing takes about half a second; the client waits up to 60 s, which only a server that
  // never closes idle connections reaches.
  RawClient client(port_, 60s);
  ASSERT_TRUE(client.send(get("/a.txt")));
  ASSERT_EQ(client.read_response()->status, 200);
  EXPECT_TRUE(client.closed_by_server());
  EXPECT_GE(server_->stats().timeouts, 1U);
}

TEST_F(ServerTest, AThousandIdleConnectionsDoNotBlockARealClient) {
  ZC_REQUIRE_PROGRAM("curl");
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur < 4096 && limit.rlim_max >= 4096) {
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 8192);
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &limit), 0);
  }
  ASSERT_GE(limit.rlim_cur, 2200U) << "needs ~2100 descriptors (RLIMIT_NOFILE)";
  start();
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 1000; ++i) {
    idle.push_back(std::make_unique<RawClient>(port_));
    ASSERT_TRUE(idle.back()->connected()) << i;
    // Half of them start a request and stall in the middle of it.
    if (i % 2 == 0) {
      ASSERT_TRUE(idle.back()->send("GET /a.txt HTTP/1.1\r\nHo"));
    }
  }
  // The real client comes once the server holds all of them.
  for (int i = 0; i < 1000 && server_->stats().connections_open < 1000; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_GE(server_->stats().connections_open, 1000U);
  const std::string out = root_ / "fetched";
  const test::ProgramResult curl =
      test::run_program({"curl", "-sS", "--max-time", "10", "-o", out,
                         "http://127.0.0.1:" + std::to_string(port_) + "/sub/b.bin"});
  EXPECT_EQ(curl.exit_code, 0) << curl.out;
  EXPECT_EQ(test::read_file(out), test::read_file(root_ / "sub/b.bin"));
}

TEST_F(ServerTest, AFileTruncatedWhileServedEndsThatConnectionCleanly) {
  const std::size_t size = 32 << 20;
  ASSERT_TRUE(test::write_file(root_ / "shrinks.bin", test::generated_bytes(size, 3)));
  start();
  // A small receive buffer keeps most of the file on the server's side of the socket.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  Fd socket = Fd::adopt(fd);
  const int small = 64 * 1024;
  ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
  sockaddr_in address{.sin_family = AF_INET,
                      .sin_port = htons(port_),
                      .sin_addr = {htonl(INADDR_LOOPBACK)},
                      .sin_zero = {}};
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  timeval tv{.tv_sec = 10, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ASSERT_TRUE(test::send_all(fd, get("/shrinks.bin")));
  char buffer[65536];
  std::size_t received = 0;
  while (received < 64 * 1024) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    ASSERT_GT(n, 0);
    received += static_cast<std::size_t>(n);
  }
  ASSERT_EQ(::truncate((root_ / "shrinks.bin").c_str(), 1 << 20), 0);
  bool eof = false;
  for (;;) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) eof = true;
    if (n <= 0) break;
    received += static_cast<std::size_t>(n);
  }
  EXPECT_TRUE(eof);
  EXPECT_LT(received, size);
  // The server lives on and says what happened.
  auto after = fetch(port_, get("/a.txt"));
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
  EXPECT_EQ(server_->stats().truncated_files, 1U);
  EXPECT_NE(test::read_file(logs_ / "error").find("/shrinks.bin shrank while being sent"),
            std::string::npos);
}

}  // namespace
}  // namespace zc::http
