// `zcopy channel export` and `zcopy channel import`, run as a user would: a file published into
// a channel on one side comes out of a channel on the other, through a real nats-server; wrong
// credentials, a forbidden subject and a peer that is not NATS each end in one line and exit 1,
// and no secret is ever printed.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

#include "bench/support/data.hpp"
#include "nats_test_support.hpp"
#include "nats_text_client.hpp"
#include "support/shell_command.hpp"
#include "zcopy/net/tcp.hpp"

namespace zc::test {
namespace {

std::string quote(const std::string& text) {
  return "'" + text + "'";
}

TEST(ChannelNatsCommand, AFileCrossesFromOneChannelToAnotherThroughNats) {
  ZC_REQUIRE_TOOL();
  ZC_REQUIRE_PROGRAM("nats-server");
  // Each process is bounded, so a broken bridge fails the test instead of hanging it.
  const std::string bounded = "timeout -s KILL 120 " + quote(zcopy_tool());
  bench::TempDir dir("zcopy-nats-cli");
  ASSERT_FALSE(dir.path().empty());
  auto server = bench::start_nats_server({.dir = dir.path(), .max_payload = 1024 * 1024});
  ASSERT_TRUE(server) << server.error().message();
  // Whole 64 KiB chunks: pub reads a regular file a chunk at a time, so 320 messages.
  const std::string data = bench::random_bytes(320 * 65536, 11);
  std::ofstream(dir / "in.bin", std::ios::binary)
      .write(data.data(), static_cast<std::streamsize>(data.size()));
  const std::string source = unique_channel("source");
  const std::string local = unique_channel("local");
  const std::string subject = "cli." + std::to_string(::getpid());
  const std::string script =
      "cd " + dir.path() + "; " + bounded + " channel import " + subject + " --nats " +
      server->url() + " --channel " + local +
      " --subscribers 1 --messages 320 --json > import.json 2> import.err & import=$!; " + bounded +
      " channel sub " + local + " > out.bin 2> sub.err & sub=$!; " +
      "for i in $(seq 200); do grep -q 'channel import:' import.err && break; sleep 0.05; done; " +
      bounded + " channel export " + source + " --subject " + subject + " --nats " + server->url() +
      " --json > export.json 2> export.err & export=$!; " + bounded + " channel pub " + source +
      " --subscribers 1 < in.bin 2> pub.err; pub_rc=$?; wait $export; export_rc=$?; " +
      "wait $import; import_rc=$?; wait $sub; sub_rc=$?; " +
      "echo $pub_rc $export_rc $import_rc $sub_rc";
  const CommandResult run = run_command(script);
  EXPECT_EQ(run.output, "0 0 0 0\n")
      << bench::read_text(dir / "import.err") << bench::read_text(dir / "export.err");
  EXPECT_TRUE(bench::read_text(dir / "out.bin") == data) << "the file did not arrive intact";
  const std::string imported = bench::read_text(dir / "import.json");
  EXPECT_NE(imported.find("\"final\":true"), std::string::npos) << imported;
  EXPECT_NE(imported.find("\"messages\":320,"), std::string::npos) << imported;
  EXPECT_NE(imported.find("\"lost\":0,"), std::string::npos) << imported;
  const std::string exported = bench::read_text(dir / "export.json");
  EXPECT_NE(exported.find("\"messages\":320,"), std::string::npos) << exported;
}

// Runs `zcopy ARGS` and returns its exit code and everything it printed.
CommandResult zcopy(const std::string& args) {
  return run_command(quote(zcopy_tool()) + " " + args + " 2>&1 < /dev/null");
}

bool one_line(const std::string& text) {
  return !text.empty() && text.find('\n') == text.size() - 1;
}

TEST(ChannelNatsCommand, WrongCredentialsFailInOneLineWithoutTheSecret) {
  ZC_REQUIRE_TOOL();
  ZC_REQUIRE_PROGRAM("nats-server");
  bench::TempDir dir("zcopy-nats-cli");
  auto server = bench::start_nats_server(
      {.dir = dir.path(), .extra = "authorization { user: alice, password: right-one }"});
  ASSERT_TRUE(server) << server.error().message();
  const std::string port = std::to_string(server->port());
  const CommandResult by_option =
      zcopy("channel import a.b --channel " + unique_channel("c") + " --nats " + server->url() +
            " --user alice --password s3cr3t-wrong");
  EXPECT_EQ(by_option.exit_code, 1) << by_option.output;
  EXPECT_TRUE(one_line(by_option.output)) << by_option.output;
  EXPECT_NE(by_option.output.find("credentials"), std::string::npos) << by_option.output;
  EXPECT_EQ(by_option.output.find("s3cr3t-wrong"), std::string::npos) << by_option.output;
  const CommandResult in_url = zcopy("channel import a.b --channel " + unique_channel("c") +
                                     " --nats nats://alice:s3cr3t-wrong@127.0.0.1:" + port);
  EXPECT_EQ(in_url.exit_code, 1) << in_url.output;
  EXPECT_TRUE(one_line(in_url.output)) << in_url.output;
  EXPECT_EQ(in_url.output.find("s3cr3t-wrong"), std::string::npos) << in_url.output;
  const CommandResult token = zcopy("channel import a.b --channel " + unique_channel("c") +
                                    " --nats " + server->url() + " --token t0k3n-wrong");
  EXPECT_EQ(token.exit_code, 1) << token.output;
  EXPECT_EQ(token.output.find("t0k3n-wrong"), std::string::npos) << token.output;
}

TEST(ChannelNatsCommand, AForbiddenSubjectFailsInOneLine) {
  ZC_REQUIRE_TOOL();
  ZC_REQUIRE_PROGRAM("nats-server");
  bench::TempDir dir("zcopy-nats-cli");
  auto server = bench::start_nats_server(
      {.dir = dir.path(),
       .extra = "authorization { users: [ { user: bob, password: pw, permissions: { "
                "subscribe: \"allowed.>\", publish: \"allowed.>\" } } ] }"});
  ASSERT_TRUE(server) << server.error().message();
  const CommandResult run = zcopy("channel import secret.things --channel " + unique_channel("c") +
                                  " --nats " + server->url() + " --user bob --password pw");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_TRUE(one_line(run.output)) << run.output;
  EXPECT_NE(run.output.find("ermission"), std::string::npos) << run.output;
}

// The account may make the consumer but not ask it for messages: each pull request is refused
// with an asynchronous permissions violation and the fetch only times out. The import must stop
// with that error, not wait for messages that never come.
TEST(ChannelNatsCommand, AJetStreamImportThatMayNotFetchFailsInOneLine) {
  ZC_REQUIRE_TOOL();
  ZC_REQUIRE_PROGRAM("nats-server");
  bench::TempDir dir("zcopy-nats-cli");
  auto server = bench::start_nats_server(
      {.dir = dir.path(),
       .jetstream = true,
       .extra = "no_auth_user: admin\nauthorization { users: [ { user: admin, password: a }, "
                "{ user: carol, password: pw, permissions: { subscribe: \">\", publish: { "
                "allow: \">\", deny: \"$JS.API.CONSUMER.MSG.NEXT.>\" } } } ] }"});
  ASSERT_TRUE(server) << server.error().message();
  const std::string made = jetstream_api(
      server->port(), "STREAM.CREATE.PERMS",
      R"({"name":"PERMS","subjects":["perms.data"],"storage":"memory","num_replicas":1})");
  ASSERT_EQ(made.find("\"error\""), std::string::npos) << made;
  // Bounded: an import that keeps fetching is killed (exit 137) instead of hanging the test.
  const CommandResult run = run_command(
      "timeout -s KILL 60 " + quote(zcopy_tool()) + " channel import perms.data --channel " +
      unique_channel("c") + " --nats " + server->url() +
      " --user carol --password pw --durable perms --json 2>&1 >/dev/null </dev/null");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  // The error is the last line, and the only one that speaks of permissions.
  const std::size_t last = run.output.rfind('\n', run.output.size() - 2);
  const std::string last_line = run.output.substr(last == std::string::npos ? 0 : last + 1);
  EXPECT_NE(last_line.find("ermissions Violation"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("ermission"),
            run.output.size() - last_line.size() + last_line.find("ermission"))
      << run.output;
}

TEST(ChannelNatsCommand, APeerThatIsNotNatsFailsInOneLine) {
  ZC_REQUIRE_TOOL();
  auto listener = net::listen_tcp(net::Endpoint{"127.0.0.1", 0}, {.nonblocking = false});
  ASSERT_TRUE(listener);
  const auto port = net::local_address(listener->get())->port();
  // An HTTP server's greeting where a NATS INFO line should be.
  std::thread peer([&] {
    for (;;) {
      const int fd = ::accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      const char reply[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
      (void)::write(fd, reply, sizeof reply - 1);
      ::close(fd);
    }
  });
  const CommandResult run = zcopy("channel import a.b --channel " + unique_channel("c") +
                                  " --nats nats://127.0.0.1:" + std::to_string(port));
  ::shutdown(listener->get(), SHUT_RDWR);
  peer.join();
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_TRUE(one_line(run.output)) << run.output;
  // Says what answered instead (libnats names the wrong greeting, or we read it ourselves).
  EXPECT_NE(run.output.find("HTTP/1.1"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("NATS"), std::string::npos) << run.output;
}

TEST(ChannelNatsCommand, DoctorNamesTheClientLibraryAndTheServerAUrlReaches) {
  ZC_REQUIRE_TOOL();
  ZC_REQUIRE_PROGRAM("nats-server");
  bench::TempDir dir("zcopy-nats-cli");
  auto server = bench::start_nats_server({.dir = dir.path(), .name = "doctor-node"});
  ASSERT_TRUE(server) << server.error().message();
  const CommandResult run = zcopy("doctor --json --nats " + server->url());
  EXPECT_NE(run.output.find("\"capability\":\"nats-client\",\"available\":true"), std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("\"capability\":\"nats-server\",\"available\":true,\"detail\":\"" +
                            server->url()),
            std::string::npos)
      << run.output;
}

}  // namespace
}  // namespace zc::test
