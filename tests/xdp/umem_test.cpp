// The UMEM on its own: frames loaned and returned through move-only handles, from any thread,
// and the checks on the memory it is built on.
#include "zcopy/xdp/umem.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "support/capability_gate.hpp"
#include "zcopy/core/capabilities.hpp"

namespace zc::xdp {
namespace {

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

TEST(XdpUmem, AllocatesEveryFrameThenReportsExhausted) {
  ZC_REQUIRE_CAPABILITY(Capability::af_xdp);
  auto umem = Umem::create({.frame_count = 64, .fill_ring_size = 32});
  ASSERT_TRUE(umem) << umem.error().message();
  EXPECT_EQ(umem->frame_count(), 64u);
  EXPECT_EQ(umem->frame_size(), Umem::kFrameSize);
  std::vector<Frame> frames;
  for (int i = 0; i < 64; ++i) {
    auto frame = umem->allocate();
    ASSERT_TRUE(frame) << frame.error().message();
    EXPECT_EQ(frame->size(), 0u);
    EXPECT_EQ(frame->capacity(), Umem::kFrameSize);
    frames.push_back(std::move(*frame));
  }
  auto none = umem->allocate();
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), Errc::exhausted);
  EXPECT_EQ(umem->statistics().held, 64u);
  EXPECT_EQ(umem->statistics().free, 0u);
  frames.pop_back();
  EXPECT_TRUE(umem->allocate()) << "a dropped frame can be allocated again";
}

TEST(XdpUmem, AFrameHandleIsMoveOnlyAndReturnsItsFrameOnce) {
  ZC_REQUIRE_CAPABILITY(Capability::af_xdp);
  auto umem = Umem::create({.frame_count = 8, .fill_ring_size = 4});
  ASSERT_TRUE(umem) << umem.error().message();
  auto allocated = umem->allocate();
  ASSERT_TRUE(allocated);
  Frame frame = std::move(*allocated);
  EXPECT_FALSE(allocated->valid());
  ASSERT_TRUE(frame.resize(1500));
  EXPECT_EQ(frame.data().size(), 1500u);
  EXPECT_FALSE(frame.resize(Umem::kFrameSize + 1));
  EXPECT_EQ(frame.size(), 1500u);
  frame.data()[0] = std::byte{0x5a};

  Frame moved;
  moved = std::move(frame);
  EXPECT_FALSE(frame.valid());
  EXPECT_TRUE(moved.valid());
  EXPECT_EQ(umem->statistics().held, 1u);
  moved.reset();
  moved.reset();  // a second reset of an empty handle returns nothing
  const UmemStatistics after = umem->statistics();
  EXPECT_EQ(after.held, 0u);
  EXPECT_EQ(after.free, 8u);
  EXPECT_EQ(after.bad_returns, 0u);
}

// Frames allocated on one thread and dropped on others all come back, each once, while other
// threads allocate and drop their own.
TEST(XdpUmem, FramesDroppedOnManyThreadsAllReturn) {
  ZC_REQUIRE_CAPABILITY(Capability::af_xdp);
  auto umem = Umem::create({.frame_count = 256, .fill_ring_size = 128});
  ASSERT_TRUE(umem) << umem.error().message();
  std::mutex lock;
  std::deque<Frame> handed;  // protected by lock
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  threads.emplace_back([&] {
    for (int i = 0; i < 20000; ++i) {
      auto frame = umem->allocate();
      if (!frame) continue;
      (void)frame->resize(64);
      std::lock_guard guard(lock);
      handed.push_back(std::move(*frame));
    }
    done = true;
  });
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      for (;;) {
        Frame frame;
        {
          std::lock_guard guard(lock);
          if (!handed.empty()) {
            frame = std::move(handed.front());
            handed.pop_front();
          } else if (done) {
            return;
          }
        }
        if (auto own = umem->allocate()) own->reset();  // a return of this thread's own
        frame.reset();                                  // and one from another thread
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const UmemStatistics after = umem->statistics();
  EXPECT_EQ(after.free, 256u);
  EXPECT_EQ(after.held, 0u);
  EXPECT_EQ(after.bad_returns, 0u);
}

TEST(XdpUmem, HugePagesWhenTheMachineHasThemOtherwiseItSaysWhy) {
  ZC_REQUIRE_CAPABILITY(Capability::af_xdp);
  auto umem = Umem::create({.frame_count = 512, .fill_ring_size = 256});
  ASSERT_TRUE(umem) << umem.error().message();
  const std::string text = umem->describe();
  EXPECT_TRUE(contains(text, "pinned")) << text;
  auto required =
      Umem::create({.frame_count = 512, .fill_ring_size = 256, .huge_pages = HugePages::required});
  if (probe(Capability::shmem_huge_pages).available) {
    EXPECT_TRUE(umem->huge_pages()) << text;
    EXPECT_TRUE(contains(text, "2 MiB huge pages")) << text;
    EXPECT_TRUE(required) << required.error().message();
  } else {
    EXPECT_FALSE(umem->huge_pages());
    EXPECT_TRUE(contains(text, "4 KiB pages (huge pages: ")) << text;
    ASSERT_FALSE(required);
    EXPECT_EQ(required.error().code(), Errc::capability_missing);
  }
}

TEST(XdpUmem, APoolThatCannotBeAUmemIsRefusedWithTheReason) {
  ZC_REQUIRE_CAPABILITY(Capability::af_xdp);
  auto unpinned = BufferPool::create(4096, 16);
  ASSERT_TRUE(unpinned);
  auto refused = Umem::adopt(std::move(*unpinned));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::invalid_argument);
  EXPECT_TRUE(contains(refused.error().message(), "not pinned")) << refused.error().message();

  auto odd = BufferPool::create(1000, 16, {.pin = true});
  ASSERT_TRUE(odd);
  refused = Umem::adopt(std::move(*odd));
  ASSERT_FALSE(refused);
  EXPECT_TRUE(contains(refused.error().message(), "power of two")) << refused.error().message();

  auto busy = BufferPool::create(4096, 16, {.pin = true});
  ASSERT_TRUE(busy);
  auto loan = busy->loan();
  ASSERT_TRUE(loan);
  const std::uint32_t kept = loan->release();
  refused = Umem::adopt(std::move(*busy));
  ASSERT_FALSE(refused);
  EXPECT_TRUE(contains(refused.error().message(), "on loan")) << refused.error().message();
  (void)kept;

  auto good = BufferPool::create(4096, 16, {.pin = true});
  ASSERT_TRUE(good);
  auto adopted = Umem::adopt(std::move(*good));
  ASSERT_TRUE(adopted) << adopted.error().message();
  EXPECT_EQ(adopted->frame_count(), 16u);
}

TEST(XdpUmem, OptionsOutOfRangeAreInvalidArguments) {
  for (const UmemOptions& options :
       {UmemOptions{.frame_count = 0}, UmemOptions{.frame_count = 64, .fill_ring_size = 100},
        UmemOptions{.frame_count = 64, .completion_ring_size = 0}}) {
    auto umem = Umem::create(options);
    ASSERT_FALSE(umem);
    EXPECT_EQ(umem.error().code(), Errc::invalid_argument) << umem.error().message();
  }
}

}  // namespace
}  // namespace zc::xdp
