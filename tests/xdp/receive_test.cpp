// Receiving on a veth pair: every datagram sent from the other namespace arrives once, intact,
// in a frame of the UMEM, and frames dropped by the application go back to the fill ring.
#include <gtest/gtest.h>

#include <set>

#include "xdp_test_support.hpp"
#include "zcopy/xdp/redirect_program.hpp"
#include "zcopy/xdp/socket.hpp"
#include "zcopy/xdp/umem.hpp"

namespace zc::xdp {
namespace {

using test::VethPair;

TEST(XdpReceive, EveryDatagramSentArrivesOnceAndIntact) {
  ZC_REQUIRE_XDP_ON_VETH();
  VethPair link;
  ASSERT_TRUE(link.ok()) << link.why();
  test::ThreadInNamespace inside(link.netns_path(VethPair::a));
  ASSERT_TRUE(inside.ok());

  auto umem = Umem::create({.frame_count = 4096});
  ASSERT_TRUE(umem) << umem.error().message();
  auto program = RedirectProgram::attach(link.name(VethPair::a));
  ASSERT_TRUE(program) << program.error().message();
  auto socket = Socket::open(*umem, *program);
  ASSERT_TRUE(socket) << socket.error().message();
  std::printf("%s\n%s\n%s\n", umem->describe().c_str(), program->describe().c_str(),
              socket->mode_line().c_str());

  // Fewer than the fill ring holds: nothing may be lost even before we start reading.
  constexpr std::uint32_t kCount = 1500;
  ASSERT_EQ(test::send_from(link, VethPair::b, kCount, 200), 0);
  std::vector<Frame> frames = test::receive_frames(*socket, kCount);
  ASSERT_EQ(frames.size(), kCount);

  std::set<std::uint32_t> seen;
  for (const Frame& frame : frames) {
    const auto payload = bench::udp_payload_of(frame.data());
    ASSERT_EQ(payload.size(), 200u);
    const auto sequence = bench::sequence_of(payload);
    ASSERT_TRUE(sequence.has_value()) << "a damaged payload";
    EXPECT_TRUE(seen.insert(*sequence).second) << "datagram " << *sequence << " twice";
  }
  EXPECT_EQ(seen.size(), kCount);
  EXPECT_EQ(*seen.rbegin(), kCount - 1);

  const SocketStatistics stats = socket->statistics();
  EXPECT_EQ(stats.rx_packets, kCount);
  EXPECT_EQ(stats.dropped(), 0u);
  EXPECT_EQ(stats.invalid(), 0u);
  EXPECT_EQ(stats.frames_held, kCount);
  EXPECT_EQ(umem->statistics().held, kCount);

  frames.clear();  // dropped: back to the UMEM, and to the fill ring at the next receive
  EXPECT_EQ(umem->statistics().held, 0u);
  std::array<Frame, 1> none;
  EXPECT_EQ(socket->receive(none), 0u);
  const UmemStatistics after = umem->statistics();
  EXPECT_EQ(after.in_fill, 2048u);
  EXPECT_EQ(after.free + after.in_fill, umem->frame_count());
}

}  // namespace
}  // namespace zc::xdp
