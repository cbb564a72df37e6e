// `zcopy serve` as a command: the URL line, the access log file, clean stops, a port already
// served, redirects as a browser follows them, floods of empty lines, usage errors.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/stat.h>

#include <thread>

#include "http_test_support.hpp"
#include "serve_process.hpp"

namespace zc::test {
namespace {

TEST(ServeTool, PrintsItsUrlServesAndStopsCleanlyOnSigtermAndSigint) {
  ZC_REQUIRE_PROGRAM("curl");
  TempDir root;
  TempDir logs;
  ASSERT_TRUE(write_file(root / "f.txt", "tool test\n"));
  for (const int signal : {SIGTERM, SIGINT}) {
    ServeProcess serve(
        {tool_path(), "serve", root.path(), "--port", "0", "--access-log", logs / "access"});
    ASSERT_EQ(serve.first_line().rfind("serving " + root.path() + " at http://127.0.0.1:", 0), 0U)
        << serve.first_line();
    const ProgramResult curl = run_program({"curl", "-sS", serve.url() + "f.txt"});
    EXPECT_EQ(curl.exit_code, 0);
    EXPECT_EQ(curl.out, "tool test\n");
    EXPECT_EQ(serve.stop(signal), 0);
    const std::string err = serve.stderr_text();
    EXPECT_NE(err.find(signal == SIGTERM ? "stopped by SIGTERM" : "stopped by SIGINT"),
              std::string::npos)
        << err;
    EXPECT_NE(err.find("10 B zero-copy"), std::string::npos) << err;
  }
  const std::string log = read_file(logs / "access");
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 2) << log;
  EXPECT_NE(log.find("\"GET /f.txt HTTP/1.1\" 200 10"), std::string::npos) << log;
}

TEST(ServeTool, ASecondServerOnAServedPortFailsWithOneLineAndTheFirstKeepsServing) {
  ZC_REQUIRE_PROGRAM("curl");
  TempDir root;
  ASSERT_TRUE(write_file(root / "f.txt", "first\n"));
  ServeProcess first({tool_path(), "serve", root.path(), "--port", "0", "--threads", "2"});
  ASSERT_FALSE(first.url().empty()) << first.stderr_text();
  const std::string address = first.url().substr(7, first.url().size() - 8);  // "127.0.0.1:PORT"
  const std::string port = address.substr(address.rfind(':') + 1);
  TempDir other;
  ASSERT_TRUE(write_file(other / "f.txt", "second\n"));
  ServeProcess second({tool_path(), "serve", other.path(), "--port", port, "--threads", "2"});
  EXPECT_EQ(second.url(), "") << "a second server started: " << second.first_line();
  // Every request still reaches the first server: none is split off to another listener.
  for (int i = 0; i < 20; ++i) {
    const ProgramResult curl = run_program({"curl", "-sS", first.url() + "f.txt"});
    ASSERT_EQ(curl.exit_code, 0) << curl.out;
    EXPECT_EQ(curl.out, "first\n");
  }
  EXPECT_EQ(second.stop(), 1);
  const std::string err = second.stderr_text();
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_NE(err.find(address), std::string::npos) << err;
  EXPECT_NE(err.find("already in use"), std::string::npos) << err;
}

// The Location header curl saw for `target` (sent as is, not normalised by curl); "" for none.
std::string location_for(const std::string& url, const std::string& target) {
  const ProgramResult curl =
      run_program({"curl", "-sS", "--path-as-is", "-o", "/dev/null", "-D", "-", url + target});
  const std::size_t at = curl.out.find("Location: ");
  if (at == std::string::npos) return "";
  return curl.out.substr(at + 10, curl.out.find("\r\n", at) - at - 10);
}

TEST(ServeTool, RedirectsToTheNormalizedPathWhateverSlashesTheRequestHad) {
  ZC_REQUIRE_PROGRAM("curl");
  TempDir root;
  ASSERT_EQ(::mkdir((root / "sub").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((root / "a b").c_str(), 0755), 0);
  ASSERT_TRUE(write_file(root / "sub/f.txt", "inside\n"));
  ServeProcess serve({tool_path(), "serve", root.path(), "--port", "0"});
  ASSERT_FALSE(serve.url().empty()) << serve.stderr_text();
  const std::string base = serve.url().substr(0, serve.url().size() - 1);  // no trailing '/'
  EXPECT_EQ(location_for(base, "//sub"), "/sub/");
  EXPECT_EQ(location_for(base, "///sub?x=1"), "/sub/?x=1");
  EXPECT_EQ(location_for(base, "/./sub"), "/sub/");
  EXPECT_EQ(location_for(base, "/.//sub/.//"), "") << "a directory with its slash is listed";
  EXPECT_EQ(location_for(base, "/%73ub"), "/sub/");
  EXPECT_EQ(location_for(base, "//a%20b"), "/a%20b/");
  EXPECT_EQ(location_for(base, "/."), "/");
  // A browser (here curl -L) that follows the redirect stays on this server.
  const ProgramResult follow =
      run_program({"curl", "-sS", "-L", "--path-as-is", "--max-redirs", "3", base + "//sub"});
  EXPECT_EQ(follow.exit_code, 0) << follow.out;
  EXPECT_NE(follow.out.find("href=\"f.txt\""), std::string::npos) << follow.out;
}

struct FloodOutcome {
  bool closed = false;      // the server answered or hung up
  std::uint64_t bytes = 0;  // what the client had sent by then
  std::string answer;       // what the server sent back, if anything
};

// Sends `first` in one piece, then `unit` over and over in pieces of 4 KiB, until the server
// answers or closes, 64 MiB went out, or nothing moved either way for 30 s (a server that stopped
// reading and never closes).
FloodOutcome flood(std::uint16_t port, const std::string& first, const std::string& unit) {
  FloodOutcome out;
  auto socket = net::connect_tcp({"127.0.0.1", port}, std::chrono::seconds(10));
  if (!socket || !send_all(socket->get(), first)) return out;
  out.bytes = first.size();
  // The server reads `first` alone; what follows it then ends its buffer in the middle of a unit,
  // where a parser that forgot the empty lines would wait for more.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  if (!net::set_nonblocking(socket->get(), true)) return out;
  std::string pending;
  while (out.bytes < (64U << 20)) {
    while (pending.size() < 8192) pending += unit;
    pollfd p{.fd = socket->get(), .events = POLLIN | POLLOUT, .revents = 0};
    if (::poll(&p, 1, 30000) <= 0) return out;
    if (p.revents & (POLLIN | POLLERR | POLLHUP)) {
      char buffer[4096];
      const ssize_t n = ::recv(socket->get(), buffer, sizeof buffer, 0);
      if (n > 0) out.answer.append(buffer, static_cast<std::size_t>(n));
      out.closed = true;
      return out;
    }
    const ssize_t n = ::send(socket->get(), pending.data(), 4096, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN) {
      out.closed = true;  // reset: the server closed with our bytes unread
      return out;
    }
    if (n > 0) {
      out.bytes += static_cast<std::uint64_t>(n);
      pending.erase(0, static_cast<std::size_t>(n));
    }
  }
  return out;
}

TEST(ServeTool, ClosesAClientSendingEndlessEmptyLinesAfterAHeadsWorthOfBytes) {
  ZC_REQUIRE_PROGRAM("curl");
  TempDir root;
  ASSERT_TRUE(write_file(root / "f.txt", "still here\n"));
  // One loop, and a header timeout no test waits for: only the byte limit can end the floods.
  ServeProcess serve({tool_path(), "serve", root.path(), "--port", "0", "--threads", "1",
                      "--header-timeout", "3600"});
  ASSERT_FALSE(serve.url().empty()) << serve.stderr_text();
  const auto port =
      static_cast<std::uint16_t>(std::stoi(serve.url().substr(serve.url().rfind(':') + 1)));
  std::string lines;
  for (int i = 0; i < 15000; ++i) lines += "\r\n";
  // Empty lines for ever; and empty lines, then a request head that never ends.
  const std::pair<std::string, std::string> floods[] = {
      {lines.substr(0, 16001), "\n\r"},
      {lines + "GET /f.txt HTTP/1.1\r\n", "X-Filler: 1234567\r\n"}};
  for (const auto& [first, unit] : floods) {
    const FloodOutcome outcome = flood(port, first, unit);
    EXPECT_TRUE(outcome.closed) << "still open after " << outcome.bytes << " bytes";
    if (!outcome.answer.empty()) {
      EXPECT_EQ(outcome.answer.rfind("HTTP/1.1 431 ", 0), 0U) << outcome.answer;
    }
    // And the one loop still answers everyone else.
    const ProgramResult curl = run_program({"curl", "-sS", serve.url() + "f.txt"});
    EXPECT_EQ(curl.out, "still here\n");
  }
}

TEST(ServeTool, RefusesAnUnknownMethodAndAMissingDirectory) {
  TempDir root;
  EXPECT_EQ(run_program({tool_path(), "serve", root.path(), "--method", "pigeon"}).exit_code, 2);
  EXPECT_NE(run_program({tool_path(), "serve", root / "missing"}).exit_code, 0);
  EXPECT_EQ(run_program({tool_path(), "serve"}).exit_code, 2);
}

}  // namespace
}  // namespace zc::test
