// The zero-copy sender where loopback cannot show it: under a lowered optmem_max (ENOBUFS), and
// into a UDP transmit sink whose packets are dropped at the device, so notifications report true
// zero-copy. Both run in a private network namespace of a child process.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdio>
#include <vector>

#include "netns_support.hpp"
#include "send_test_support.hpp"
#include "support/capability_gate.hpp"
#include "zcopy/net/zerocopy_sender.hpp"

namespace zc::net {
namespace {

using test::fnv1a;

TEST(SenderNetns, EnobufsUnderLowOptmemFallsBackWithoutFailing) {
  ZC_REQUIRE_CAPABILITY(Capability::msg_zerocopy);
  ZC_REQUIRE_CAPABILITY(Capability::cap_net_admin);
  const int code = test::in_private_netns([] {
    // Room for about one notification: the next zero-copy call finds optmem full.
    if (!test::write_sysctl("/proc/sys/net/core/optmem_max", "1024")) return 10;
    auto pair = test::tcp_pair();
    if (!pair) return 11;
    test::Drain drain(pair->receiver.get());
    const std::size_t size = 64 * 1024;
    std::vector<std::byte> buffer(size * 64);
    for (std::size_t i = 0; i < buffer.size(); ++i) buffer[i] = std::byte(i * 7 + i / 4096);
    std::uint64_t expected = 14695981039346656037ull;
    int released = 0;
    const int rounds = 300;
    SenderStats stats;
    {
      auto sender =
          ZeroCopySender::create(pair->sender.get(), {.method = SendMethod::msg_zerocopy});
      if (!sender) return 12;
      for (int r = 0; r < rounds; ++r) {
        // Distinct slices, never rewritten: many sends stay in flight and fill optmem.
        const auto slice = std::span(buffer).subspan(static_cast<std::size_t>(r % 64) * size, size);
        auto ticket = sender->send(slice, [&] { ++released; });
        if (!ticket) {
          std::fprintf(stderr, "send: %s\n", ticket.error().message().c_str());
          return 13;
        }
        expected = fnv1a(slice, expected);
        // Second half: no optmem at all, so retries cannot help and the sender must copy.
        if (r == rounds / 2) {
          if (!sender->flush()) return 14;
          if (!test::write_sysctl("/proc/sys/net/core/optmem_max", "0")) return 10;
        }
      }
      if (!sender->flush()) return 15;
      stats = sender->stats();
    }
    ::shutdown(pair->sender.get(), SHUT_WR);
    drain.join();
    std::fprintf(stderr, "enobufs %llu, fallbacks %llu, zero-copy calls %llu\n",
                 static_cast<unsigned long long>(stats.enobufs),
                 static_cast<unsigned long long>(stats.enobufs_fallbacks),
                 static_cast<unsigned long long>(stats.zerocopy_calls));
    if (released != rounds) return 20;
    if (drain.hash() != expected || drain.bytes() != size * rounds) return 21;
    if (stats.enobufs == 0) return 22;
    if (stats.enobufs_fallbacks == 0) return 23;
    if (stats.zerocopy_calls == 0) return 24;
    return 0;
  });
  EXPECT_EQ(code, 0) << "see the child's stderr above";
}

// A veth whose peer is down and a permanent neighbour entry: packets reach the device and are
// dropped there, never delivered locally, so the kernel has no reason to copy them.
bool make_transmit_sink() {
  return test::ip({"link", "add", "zcsink0", "type", "veth", "peer", "name", "zcsink1"}) &&
         test::ip({"addr", "add", "10.203.0.1/24", "dev", "zcsink0"}) &&
         test::ip({"link", "set", "zcsink0", "up"}) &&
         test::ip({"neigh", "add", "10.203.0.2", "lladdr", "02:00:00:00:00:02", "dev", "zcsink0",
                   "nud", "permanent"});
}

int send_into_sink(SendMethod method) {
  if (!make_transmit_sink()) return 77;
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  Fd socket = Fd::adopt(fd);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(9);
  ::inet_pton(AF_INET, "10.203.0.2", &to.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) return 30;
  const std::size_t batch = 1472 * 40;  // one UDP_SEGMENT send: 40 datagrams
  std::vector<std::byte> buffer(batch * 16, std::byte{0x5a});
  int released = 0;
  const int rounds = 500;
  SenderStats stats;
  {
    auto sender = ZeroCopySender::create(fd, {.method = method, .udp_segment = 1472});
    if (!sender) {
      std::fprintf(stderr, "%s\n", sender.error().message().c_str());
      return 31;
    }
    for (int r = 0; r < rounds; ++r) {
      auto slice = std::span(buffer).subspan(static_cast<std::size_t>(r % 16) * batch, batch);
      auto ticket = sender->send(slice, [&] { ++released; });
      if (!ticket) {
        std::fprintf(stderr, "send: %s\n", ticket.error().message().c_str());
        return 32;
      }
    }
    if (auto flushed = sender->flush(); !flushed) {
      std::fprintf(stderr, "flush: %s\n", flushed.error().message().c_str());
      return 33;
    }
    stats = sender->stats();
  }
  std::fprintf(stderr, "%s: calls %llu, notifications %llu, copied %llu, zero-copy bytes %llu\n",
               std::string(to_string(method)).c_str(),
               static_cast<unsigned long long>(stats.zerocopy_calls),
               static_cast<unsigned long long>(stats.notifications),
               static_cast<unsigned long long>(stats.calls_copied),
               static_cast<unsigned long long>(stats.bytes_zero_copy));
  if (released != rounds) return 40;
  if (stats.zerocopy_calls == 0) return 41;
  if (stats.calls_copied != 0) return 42;
  if (stats.bytes_zero_copy != std::uint64_t{batch} * rounds) return 43;
  if (stats.switched_to_copy) return 44;
  return 0;
}

TEST(SenderNetns, UdpSinkNotificationsReportTrueZeroCopy) {
  ZC_REQUIRE_CAPABILITY(Capability::msg_zerocopy);
  ZC_REQUIRE_CAPABILITY(Capability::cap_net_admin);
  EXPECT_EQ(test::in_private_netns([] { return send_into_sink(SendMethod::automatic); }), 0);
}

TEST(SenderNetns, UdpSinkUringSendZcIsNotCopied) {
  ZC_REQUIRE_CAPABILITY(Capability::io_uring_send_zc);
  ZC_REQUIRE_CAPABILITY(Capability::cap_net_admin);
  EXPECT_EQ(test::in_private_netns([] { return send_into_sink(SendMethod::uring_zc); }), 0);
}

}  // namespace
}  // namespace zc::net
