// Descriptors from a buggy peer: anyone holding the socket can map its rings and write into them.
// Such descriptors are counted and never followed: no frame is handed out twice or from outside
// the UMEM, and the UMEM's bookkeeping stays whole.
#include <gtest/gtest.h>
#include <linux/if_xdp.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <atomic>

#include "xdp_test_support.hpp"
#include "zcopy/xdp/redirect_program.hpp"
#include "zcopy/xdp/socket.hpp"
#include "zcopy/xdp/umem.hpp"

namespace zc::xdp {
namespace {

using test::VethPair;

// Maps one ring of `fd` the way a peer process would.
template <class Entry>
struct MappedRing {
  void* base = MAP_FAILED;
  std::size_t length = 0;
  std::uint32_t* producer = nullptr;
  Entry* entries = nullptr;

  MappedRing(int fd, const xdp_ring_offset& offsets, std::uint32_t size, off_t page_offset) {
    length = offsets.desc + size * sizeof(Entry);
    base = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, page_offset);
    if (base == MAP_FAILED) return;
    producer = reinterpret_cast<std::uint32_t*>(static_cast<char*>(base) + offsets.producer);
    entries = reinterpret_cast<Entry*>(static_cast<char*>(base) + offsets.desc);
  }
  ~MappedRing() {
    if (base != MAP_FAILED) ::munmap(base, length);
  }
  bool ok() const { return base != MAP_FAILED; }
  // Writes `entries` after the current producer index and publishes them, as the kernel would.
  void produce(std::span<const Entry> items) {
    std::atomic_ref<std::uint32_t> index(*producer);
    const std::uint32_t at = index.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < items.size(); ++i) entries[(at + i) & (kRing - 1)] = items[i];
    index.store(at + static_cast<std::uint32_t>(items.size()), std::memory_order_release);
  }
  static constexpr std::uint32_t kRing = 256;
};

class XdpHostileDescriptors : public ::testing::Test {
 protected:
  void SetUp() override {
    ZC_REQUIRE_XDP_ON_VETH();
    link_ = std::make_unique<VethPair>();
    ASSERT_TRUE(link_->ok()) << link_->why();
    inside_ = std::make_unique<test::ThreadInNamespace>(link_->netns_path(VethPair::a));
    ASSERT_TRUE(inside_->ok());
    auto umem = Umem::create({.frame_count = 512,
                              .fill_ring_size = 256,
                              .completion_ring_size = MappedRing<std::uint64_t>::kRing});
    ASSERT_TRUE(umem) << umem.error().message();
    umem_ = std::make_unique<Umem>(std::move(*umem));
    auto program = RedirectProgram::attach(link_->name(VethPair::a));
    ASSERT_TRUE(program) << program.error().message();
    program_ = std::make_unique<RedirectProgram>(std::move(*program));
    auto socket = Socket::open(*umem_, *program_,
                               {.rx_ring_size = MappedRing<xdp_desc>::kRing, .tx_ring_size = 64});
    ASSERT_TRUE(socket) << socket.error().message();
    socket_ = std::make_unique<Socket>(std::move(*socket));
    socklen_t size = sizeof offsets_;
    ASSERT_EQ(::getsockopt(socket_->fd(), SOL_XDP, XDP_MMAP_OFFSETS, &offsets_, &size), 0);
  }
  void TearDown() override {
    socket_.reset();
    program_.reset();
    umem_.reset();
    inside_.reset();
    link_.reset();
  }

  // Runs `scribble` in a forked child, which shares the socket's descriptor: a peer process.
  void as_peer(const std::function<int()>& scribble) {
    ASSERT_EQ(bench::run_in_child(scribble), 0);
  }

  std::unique_ptr<VethPair> link_;
  std::unique_ptr<test::ThreadInNamespace> inside_;
  std::unique_ptr<Umem> umem_;
  std::unique_ptr<RedirectProgram> program_;
  std::unique_ptr<Socket> socket_;
  xdp_mmap_offsets offsets_{};
};

TEST_F(XdpHostileDescriptors, BadRxDescriptorsAreCountedAndNeverFollowed) {
  // One genuine packet first, held by the application.
  ASSERT_EQ(test::send_from(*link_, VethPair::b, 1, 64), 0);
  std::vector<Frame> held = test::receive_frames(*socket_, 1);
  ASSERT_EQ(held.size(), 1u);
  const std::uint64_t held_address = held[0].address();
  const UmemStatistics before = umem_->statistics();
  // A frame that is free in the pool: the fill ring holds 256 of 512 frames, the rest are free.
  ASSERT_GT(before.free, 0u);
  const std::uint64_t umem_bytes = std::uint64_t{umem_->frame_count()} * umem_->frame_size();

  const int fd = socket_->fd();
  const xdp_ring_offset rx = offsets_.rx;
  as_peer([&] {
    MappedRing<xdp_desc> ring(fd, rx, MappedRing<xdp_desc>::kRing, XDP_PGOFF_RX_RING);
    if (!ring.ok()) return 1;
    const xdp_desc bad[] = {
        {umem_bytes + 256, 64, 0},       // past the end of the UMEM
        {~std::uint64_t{0} - 8, 64, 0},  // far past it (an overflow if added carelessly)
        {256, 8000, 0},                  // longer than a frame
        {4096 * 3 + 4000, 200, 0},       // runs past its frame's end
        {held_address, 64, 0},           // the frame the application holds
        {held_address, 64, 0},           // ...twice
        {256, 0, 0},                     // empty
    };
    ring.produce(bad);
    return 0;
  });
  std::array<Frame, 16> batch;
  EXPECT_EQ(socket_->receive(batch), 0u);
  const SocketStatistics stats = socket_->statistics();
  EXPECT_EQ(stats.invalid_rx_descriptors, 7u);
  EXPECT_EQ(stats.rx_packets, 1u);
  const UmemStatistics after = umem_->statistics();
  EXPECT_EQ(after.held, 1u);
  EXPECT_EQ(after.bad_returns, 0u);
  EXPECT_EQ(after.free + after.in_fill + after.held, umem_->frame_count());

  // The peer moved the producer index to 8, the kernel's own is at 1: the kernel's next stores
  // put it right, and packets flow again once its index passes ours. The seven it writes into
  // the slots the peer spoiled are lost, their frames held until the socket closes.
  ASSERT_EQ(test::send_from(*link_, VethPair::b, 10, 64), 0);
  EXPECT_EQ(test::receive_frames(*socket_, 3).size(), 3u);
  EXPECT_EQ(socket_->receive(batch), 0u);
  held.clear();
  socket_.reset();
  const UmemStatistics closed = umem_->statistics();
  EXPECT_EQ(closed.free, umem_->frame_count()) << "every frame returns when the socket closes";
  EXPECT_EQ(closed.bad_returns, 0u);
}

TEST_F(XdpHostileDescriptors, ARunawayProducerIndexIsAFaultAndTheKernelPutsItRight) {
  const int fd = socket_->fd();
  const xdp_ring_offset rx = offsets_.rx;
  as_peer([&] {
    MappedRing<xdp_desc> ring(fd, rx, MappedRing<xdp_desc>::kRing, XDP_PGOFF_RX_RING);
    if (!ring.ok()) return 1;
    std::atomic_ref<std::uint32_t>(*ring.producer).store(1'000'000, std::memory_order_release);
    return 0;
  });
  std::array<Frame, 512> batch;
  EXPECT_EQ(socket_->receive(batch), 0u) << "stale slots must not become frames";
  SocketStatistics stats = socket_->statistics();
  EXPECT_EQ(stats.ring_faults, 1u);
  EXPECT_EQ(stats.invalid_rx_descriptors, 0u) << "nothing is read from a faulted ring";

  // The kernel stores its own producer index with its next packet, and the ring is whole again.
  ASSERT_EQ(test::send_from(*link_, VethPair::b, 3, 64), 0);
  EXPECT_EQ(test::receive_frames(*socket_, 3).size(), 3u);
  EXPECT_EQ(umem_->statistics().bad_returns, 0u);
}

TEST_F(XdpHostileDescriptors, BogusCompletionsAreCountedAndReturnNothing) {
  const int fd = socket_->fd();
  const xdp_ring_offset completion = offsets_.cr;
  const std::uint64_t umem_bytes = std::uint64_t{umem_->frame_count()} * umem_->frame_size();
  as_peer([&] {
    MappedRing<std::uint64_t> ring(fd, completion, MappedRing<std::uint64_t>::kRing,
                                   XDP_UMEM_PGOFF_COMPLETION_RING);
    if (!ring.ok()) return 1;
    // Frames that were never sent: one in the fill ring, one free, and one outside the UMEM.
    const std::uint64_t bogus[] = {0, 4096 * 300, umem_bytes + 4096};
    ring.produce(bogus);
    return 0;
  });
  const UmemStatistics before = umem_->statistics();
  EXPECT_EQ(socket_->complete(), 0u);
  EXPECT_EQ(socket_->statistics().invalid_completions, 3u);
  const UmemStatistics after = umem_->statistics();
  EXPECT_EQ(after.free, before.free);
  EXPECT_EQ(after.in_fill, before.in_fill);
  EXPECT_EQ(after.bad_returns, 0u);
}

}  // namespace
}  // namespace zc::xdp
