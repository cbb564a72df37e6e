// Several sockets on one UMEM, and frames that travel without a copy: sent on a tx ring, they
// come back through the completion ring; received on one socket, they can be sent on another.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <map>

#include "xdp_test_support.hpp"
#include "zcopy/xdp/redirect_program.hpp"
#include "zcopy/xdp/socket.hpp"
#include "zcopy/xdp/umem.hpp"

namespace zc::xdp {
namespace {

using test::VethPair;

// Writes the UDP frame of datagram `sequence` from side `from` to the other side into a fresh
// frame of `umem`.
Frame datagram_frame(Umem& umem, const VethPair& link, VethPair::Side from,
                     std::uint32_t sequence) {
  const VethPair::Side to = from == VethPair::a ? VethPair::b : VethPair::a;
  bench::UdpFlow flow;
  flow.source_mac = *bench::parse_mac(link.mac(from));
  flow.destination_mac = *bench::parse_mac(link.mac(to));
  flow.source_ip = link.ip(from);
  flow.destination_ip = link.ip(to);
  flow.source_port = 4000;
  flow.destination_port = test::kPort;
  const auto bytes = bench::udp_frame(flow, bench::sequenced_payload(sequence, 100));
  auto frame = umem.allocate();
  if (!frame) return {};
  if (!frame->resize(static_cast<std::uint32_t>(bytes.size()))) return {};
  std::memcpy(frame->data().data(), bytes.data(), bytes.size());
  return std::move(*frame);
}

// Sends `count` datagrams from each queue of side b, on sockets that share one UMEM; returns
// 0 when every frame was sent and came back through a completion ring.
int send_on_each_queue(const VethPair& link, std::uint32_t count) {
  return link.run_in(VethPair::b, [&] {
    auto umem = Umem::create({.frame_count = 1024, .fill_ring_size = 64});
    auto program = RedirectProgram::attach(link.name(VethPair::b));
    if (!umem || !program) return 10;
    std::vector<Socket> sockets;
    for (std::uint32_t q = 0; q < link.queues(); ++q) {
      auto socket = Socket::open(*umem, *program, {.queue = q});
      if (!socket) {
        std::fprintf(stderr, "%s\n", socket.error().message().c_str());
        return 11;
      }
      sockets.push_back(std::move(*socket));
    }
    for (std::uint32_t q = 0; q < sockets.size(); ++q) {
      std::vector<Frame> frames;
      // Queue q carries sequences q*count .. q*count+count-1.
      for (std::uint32_t i = 0; i < count; ++i) {
        frames.push_back(datagram_frame(*umem, link, VethPair::b, q * count + i));
        if (!frames.back()) return 12;
      }
      std::size_t sent = 0;
      for (int round = 0; sent < frames.size() && round < 10000; ++round) {
        auto n = sockets[q].send(std::span(frames).subspan(sent));
        if (!n) return 13;
        sent += *n;
      }
      if (sent != frames.size()) return 14;
    }
    // Every frame comes back through completion (bounded: copy mode sends within the calls).
    for (int round = 0; round < 10000; ++round) {
      std::uint32_t in_flight = 0;
      for (Socket& s : sockets) {
        (void)s.flush();
        s.complete();
        in_flight += s.tx_in_flight();
      }
      if (in_flight == 0) break;
      ::usleep(100);
    }
    for (Socket& s : sockets) {
      const SocketStatistics stats = s.statistics();
      if (s.tx_in_flight() != 0 || stats.tx_completed != count || stats.invalid() != 0) return 15;
    }
    const UmemStatistics after = umem->statistics();
    if (after.in_tx != 0 || after.held != 0 || after.bad_returns != 0) return 16;
    return 0;
  });
}

TEST(XdpSharedUmem, EachQueuesSocketGetsThatQueuesPacketsFromOneUmem) {
  ZC_REQUIRE_XDP_ON_VETH();
  VethPair link({.queues = 2});
  ASSERT_TRUE(link.ok()) << link.why();
  test::ThreadInNamespace inside(link.netns_path(VethPair::a));
  ASSERT_TRUE(inside.ok());

  auto umem = Umem::create({.frame_count = 2048, .fill_ring_size = 512});
  ASSERT_TRUE(umem) << umem.error().message();
  auto program = RedirectProgram::attach(link.name(VethPair::a));
  ASSERT_TRUE(program) << program.error().message();
  auto q0 = Socket::open(*umem, *program, {.queue = 0});
  ASSERT_TRUE(q0) << q0.error().message();
  auto q1 = Socket::open(*umem, *program, {.queue = 1});
  ASSERT_TRUE(q1) << q1.error().message();
  EXPECT_EQ(q1->mode(), q0->mode());
  EXPECT_FALSE(Socket::open(*umem, *program, {.queue = 1})) << "two sockets on one queue";

  // AF_XDP transmits a frame on the queue its socket is bound to, and veth delivers it on the
  // peer's queue of the same number.
  constexpr std::uint32_t kCount = 200;
  ASSERT_EQ(send_on_each_queue(link, kCount), 0);
  std::map<std::uint32_t, std::vector<Frame>> by_queue;
  by_queue[0] = test::receive_frames(*q0, kCount);
  by_queue[1] = test::receive_frames(*q1, kCount);
  for (std::uint32_t q = 0; q < 2; ++q) {
    ASSERT_EQ(by_queue[q].size(), kCount) << "queue " << q;
    for (const Frame& f : by_queue[q]) {
      const auto sequence = bench::sequence_of(bench::udp_payload_of(f.data()));
      ASSERT_TRUE(sequence.has_value());
      EXPECT_EQ(*sequence / kCount, q) << "datagram " << *sequence << " on queue " << q;
    }
  }
  EXPECT_EQ(umem->statistics().held, 2 * kCount);
}

TEST(XdpSharedUmem, AReceivedFrameIsSentBackWithoutACopyAndReturnsThroughCompletion) {
  ZC_REQUIRE_XDP_ON_VETH();
  VethPair link;
  ASSERT_TRUE(link.ok()) << link.why();
  test::ThreadInNamespace inside(link.netns_path(VethPair::a));
  ASSERT_TRUE(inside.ok());
  auto umem = Umem::create({.frame_count = 512, .fill_ring_size = 256});
  ASSERT_TRUE(umem) << umem.error().message();
  auto program = RedirectProgram::attach(link.name(VethPair::a));
  ASSERT_TRUE(program) << program.error().message();
  auto socket = Socket::open(*umem, *program);
  ASSERT_TRUE(socket) << socket.error().message();

  constexpr std::uint32_t kCount = 100;
  ASSERT_EQ(test::send_from(link, VethPair::b, kCount, 64), 0);
  std::vector<Frame> frames = test::receive_frames(*socket, kCount);
  ASSERT_EQ(frames.size(), kCount);

  // Sent back out as they are: the frames travel to the tx ring by handle, not by copy.
  std::size_t sent = 0;
  for (int round = 0; sent < frames.size() && round < 1000; ++round) {
    auto n = socket->send(std::span(frames).subspan(sent));
    ASSERT_TRUE(n) << n.error().message();
    sent += *n;
  }
  ASSERT_EQ(sent, kCount);
  for (const Frame& f : frames) EXPECT_FALSE(f.valid()) << "a sent frame is the ring's";
  EXPECT_EQ(umem->statistics().held, 0u);
  for (int round = 0; socket->tx_in_flight() > 0 && round < 10000; ++round) {
    (void)socket->flush();
    socket->complete();
    ::usleep(100);
  }
  const SocketStatistics stats = socket->statistics();
  EXPECT_EQ(stats.tx_packets, kCount);
  EXPECT_EQ(stats.tx_completed, kCount);
  EXPECT_EQ(stats.invalid(), 0u);
  const UmemStatistics after = umem->statistics();
  EXPECT_EQ(after.in_tx, 0u);
  EXPECT_EQ(after.bad_returns, 0u);
  EXPECT_EQ(after.free + after.in_fill, umem->frame_count());
}

}  // namespace
}  // namespace zc::xdp
