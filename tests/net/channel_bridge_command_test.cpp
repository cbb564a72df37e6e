// `zcopy channel sub NAME --to HOST:PORT`, run as a user would: a file published into a channel
// arrives byte-exact at a TCP server, sent from the shared chunks.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "bench/support/data.hpp"
#include "send_test_support.hpp"
#include "support/capability_gate.hpp"
#include "support/sanitizer.hpp"
#include "support/shell_command.hpp"

namespace zc::net {
namespace {

TEST(ChannelBridgeCommand, SubToSendsTheChannelToATcpServer) {
  ZC_REQUIRE_TOOL();
  const std::string tool = zc::test::zcopy_tool();
  const bench::TempDir dir("zcopy-bridge");
  ASSERT_FALSE(dir.path().empty());
  const std::string input = dir / "input.bin";
  const std::string data = bench::random_bytes(zc::test::scaled(20'000'000) + 12345, 7);
  std::ofstream(input, std::ios::binary)
      .write(data.data(), static_cast<std::streamsize>(data.size()));

  auto server = listen_tcp(Endpoint{"127.0.0.1", 0}, {.nonblocking = false});
  ASSERT_TRUE(server);
  const auto port = local_address(server->get())->port();
  std::uint64_t bytes = 0, hash = 0;
  std::thread receiver([&] {
    Fd connection = Fd::adopt(::accept4(server->get(), nullptr, nullptr, SOCK_CLOEXEC));
    test::Drain drain(connection.get());
    drain.join();
    bytes = drain.bytes();
    hash = drain.hash();
  });
  const std::string name = "bridge-" + std::to_string(::getpid());
  const std::string command = "'" + std::string(tool) + "' channel pub " + name +
                              " --subscribers 1 < " + input + " & '" + tool + "' channel sub " +
                              name + " --to 127.0.0.1:" + std::to_string(port) +
                              "; rc=$?; wait; exit $rc";
  const int rc = zc::test::run_command(command).exit_code;
  if (rc != 0) ::shutdown(server->get(), SHUT_RDWR);  // wakes an accept that will never succeed
  receiver.join();
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(bytes, data.size());
  EXPECT_EQ(hash, test::fnv1a(std::as_bytes(std::span(data.data(), data.size()))));
}

}  // namespace
}  // namespace zc::net
