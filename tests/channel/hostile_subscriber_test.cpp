// A hostile subscriber writes whatever it likes into its own control region. Returns of chunks
// it was never sent, out of range or already returned are rejected and counted, never trusted,
// and an impossible queue index cuts it off with every chunk it held reclaimed.
#include <gtest/gtest.h>

#include <optional>
#include <thread>

#include "channel/channel_test_support.hpp"
#include "channel/handshake.hpp"
#include "zcopy/channel/channel_layout.hpp"
#include "zcopy/core/fd_passing.hpp"
#include "zcopy/mem/region.hpp"
#include "zcopy/ring/spsc_ring.hpp"

namespace {

using namespace zc::test;

// A subscriber that speaks the handshake itself and then pokes its control region directly.
struct RawPeer {
  zc::UnixSocket socket;
  zc::Region control;
  zc::ChannelGeometry geometry;

  zc::ChannelControl& ctl() {
    return *reinterpret_cast<zc::ChannelControl*>(control.data() + geometry.control_offset);
  }
  zc::DescriptorSlot& slot(std::uint64_t position) {
    return reinterpret_cast<zc::DescriptorSlot*>(
        control.data() + geometry.descriptor_offset)[position & (geometry.queue_depth - 1)];
  }
  zc::SpscRing<std::uint32_t> releases() {
    return std::move(*zc::SpscRing<std::uint32_t>::attach(control.bytes().subspan(
        geometry.release_offset,
        zc::SpscRing<std::uint32_t>::bytes_for(geometry.release_capacity))));
  }
};

std::optional<RawPeer> raw_connect(zc::Publisher& publisher, const std::string& name) {
  std::optional<RawPeer> peer;
  std::thread connecting([&] {
    auto socket = zc::UnixSocket::connect(zc::channel_address(name));
    if (!socket) return;
    const auto hello = zc::detail::kHello;
    if (!socket->send(std::as_bytes(std::span(hello.data(), hello.size())))) return;
    auto welcome = socket->receive(zc::PeerPolicy{});
    if (!welcome || welcome->fds.size() != zc::detail::kWelcomeFdCount) return;
    auto control =
        zc::Region::attach(std::move(welcome->fds[zc::detail::kControlFd]), zc::Access::read_write);
    if (!control) return;
    auto geometry = zc::validate_channel_header(control->bytes());
    if (!geometry) return;
    peer.emplace(RawPeer{std::move(*socket), std::move(*control), *geometry});
  });
  (void)publisher.wait_for_subscribers(publisher.stats().subscribers + 1, 5s);
  connecting.join();
  return peer;
}

TEST(HostileSubscriber, BogusAndRepeatedReturnsAreRejectedAndCounted) {
  const std::string name = unique_channel("bogus");
  auto publisher = zc::Publisher::create(name, {.chunk_size = 64, .chunk_count = 8});
  ASSERT_TRUE(publisher);
  auto peer = raw_connect(*publisher, name);
  ASSERT_TRUE(peer);
  ASSERT_TRUE(publish_message(*publisher));
  const auto sent = static_cast<std::uint32_t>(peer->slot(0).chunk_and_length.load() >> 32);
  ASSERT_LT(sent, 8U);

  auto ring = peer->releases();
  ASSERT_TRUE(ring.try_push(1'000'000));       // out of range
  ASSERT_TRUE(ring.try_push((sent + 1) % 8));  // never sent to it
  ASSERT_TRUE(ring.try_push(sent));            // the real one
  ASSERT_TRUE(ring.try_push(sent));            // again
  publisher->service();
  EXPECT_EQ(publisher->stats().rejected_returns, 3U);
  EXPECT_EQ(publisher->pool().stats().free, 8U) << "the real chunk came back once";
  EXPECT_EQ(publisher->pool().stats().rejected_returns, 0U) << "nothing bogus reached the pool";

  // The next loan may reuse that chunk even though the peer never moved its tail: it gave the
  // reference back, so the queue entry no longer pins it.
  ASSERT_TRUE(publish_message(*publisher));
  EXPECT_EQ(publisher->stats().subscribers, 1U);
}

TEST(HostileSubscriber, AnImpossibleTailCutsItOffAndReclaimsItsChunks) {
  const std::string name = unique_channel("tail");
  auto publisher = zc::Publisher::create(name, {.chunk_size = 64, .chunk_count = 8});
  ASSERT_TRUE(publisher);
  auto honest = connect_in_process(*publisher, name);
  auto peer = raw_connect(*publisher, name);
  ASSERT_TRUE(honest && peer);
  ASSERT_TRUE(publish_message(*publisher));
  ASSERT_TRUE(publish_message(*publisher));
  peer->ctl().tail.store(1000);  // beyond anything it was sent
  publisher->service();          // checks every tail (publish() only looks when full)
  ASSERT_TRUE(publish_message(*publisher));
  EXPECT_EQ(publisher->stats().faulted, 1U);
  EXPECT_EQ(publisher->stats().subscribers, 1U);
  for (std::uint64_t expected = 0; expected < 3; ++expected) {
    auto sample = honest->receive(1s);
    ASSERT_TRUE(sample);
    EXPECT_EQ(sample->sequence(), expected);
  }
  publisher->service();
  EXPECT_EQ(publisher->pool().stats().free, 8U);
}

// A publish that fills a queue as far as the publisher's copy of its tail knows looks at the
// tail at once (off the way to the next message), so an impossible one is caught there.
TEST(HostileSubscriber, APublishThatFillsTheQueueLooksAtTheTailAtOnce) {
  const std::string name = unique_channel("filltail");
  auto publisher =
      zc::Publisher::create(name, {.chunk_size = 64, .chunk_count = 8, .queue_depth = 2});
  ASSERT_TRUE(publisher);
  auto peer = raw_connect(*publisher, name);
  ASSERT_TRUE(peer);
  ASSERT_TRUE(publish_message(*publisher));
  // Between the loan (which may service the channel and so look at every tail) and the publish.
  auto loan = publisher->loan();
  ASSERT_TRUE(loan);
  const std::size_t length = write_message(loan->bytes(), 1);
  peer->ctl().tail.store(1000);                               // beyond anything it was sent
  ASSERT_TRUE(publisher->publish(std::move(*loan), length));  // the queue of 2 is now full
  EXPECT_EQ(publisher->stats().faulted, 1U) << "the tail was looked at by that publish";
  EXPECT_EQ(publisher->stats().subscribers, 0U);
  EXPECT_EQ(publisher->pool().stats().free, 8U);
}

TEST(HostileSubscriber, AGarbledReleaseRingCutsItOff) {
  const std::string name = unique_channel("ring");
  auto publisher = zc::Publisher::create(name, {.chunk_size = 64, .chunk_count = 8});
  ASSERT_TRUE(publisher);
  auto peer = raw_connect(*publisher, name);
  ASSERT_TRUE(peer);
  ASSERT_TRUE(publish_message(*publisher));
  auto* ring_header =
      reinterpret_cast<zc::SpscRingHeader*>(peer->control.data() + peer->geometry.release_offset);
  ring_header->head.store(1U << 30);  // more queued than the ring can hold
  publisher->service();
  EXPECT_EQ(publisher->stats().faulted, 1U);
  EXPECT_EQ(publisher->stats().subscribers, 0U);
  EXPECT_EQ(publisher->pool().stats().free, 8U);
}

}  // namespace
