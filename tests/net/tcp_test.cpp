#include "zcopy/net/tcp.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>
#include <thread>

using namespace std::chrono_literals;

namespace zc::net {
namespace {

TEST(Tcp, ListenOnAKernelChosenPortAndConnect) {
  auto server = listen_tcp(Endpoint{"127.0.0.1", 0}, {.nonblocking = false});
  ASSERT_TRUE(server) << server.error().message();
  auto bound = local_address(server->get());
  ASSERT_TRUE(bound);
  ASSERT_NE(bound->port(), 0);

  auto client = connect_tcp({"127.0.0.1", bound->port()}, 2s);
  ASSERT_TRUE(client) << client.error().message();
  Fd accepted = Fd::adopt(::accept4(server->get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(accepted);
  ASSERT_EQ(::send(client->get(), "ping", 4, 0), 4);
  char buffer[4];
  ASSERT_EQ(::recv(accepted.get(), buffer, 4, MSG_WAITALL), 4);
  EXPECT_EQ(std::string(buffer, 4), "ping");
}

TEST(Tcp, ConnectionRefusedNamesTheAddress) {
  // Bind a port and close it again so nothing listens there.
  std::uint16_t port = 0;
  {
    auto probe = listen_tcp(Endpoint{"127.0.0.1", 0});
    ASSERT_TRUE(probe);
    port = local_address(probe->get())->port();
  }
  auto client = connect_tcp({"127.0.0.1", port}, 2s);
  ASSERT_FALSE(client);
  EXPECT_EQ(client.error().sys_errno(), ECONNREFUSED);
  EXPECT_NE(client.error().message().find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << client.error().message();
}

TEST(Tcp, ReusePortLetsTwoListenersShareAPort) {
  auto first = listen_tcp(Endpoint{"127.0.0.1", 0}, {.reuse_port = true});
  ASSERT_TRUE(first) << first.error().message();
  const auto port = local_address(first->get())->port();
  auto second = listen_tcp(Endpoint{"127.0.0.1", port}, {.reuse_port = true});
  ASSERT_TRUE(second) << second.error().message();
  auto without = listen_tcp(Endpoint{"127.0.0.1", port}, {.reuse_port = false});
  ASSERT_FALSE(without);
  EXPECT_EQ(without.error().sys_errno(), EADDRINUSE);
}

TEST(Tcp, AListenerGroupSharesItsPortOnlyAmongItsOwnSockets) {
  auto group = listen_tcp_group(Endpoint{"127.0.0.1", 0}, 3);
  ASSERT_TRUE(group) << group.error().message();
  ASSERT_EQ(group->size(), 3U);
  const auto port = local_address(group->front().get())->port();
  for (const Fd& listener : *group) EXPECT_EQ(local_address(listener.get())->port(), port);
  auto other = listen_tcp_group(Endpoint{"127.0.0.1", port}, 2);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().sys_errno(), EADDRINUSE);
  EXPECT_NE(other.error().message().find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << other.error().message();
}

}  // namespace
}  // namespace zc::net
