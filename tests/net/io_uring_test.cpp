#include "zcopy/net/io_uring.hpp"

#include <gtest/gtest.h>
#include <liburing.h>

#include <utility>
#include <vector>

#include "support/capability_gate.hpp"

namespace zc::net {
namespace {

TEST(IoUring, RunsARequestAndHandsBackItsCompletion) {
  ZC_REQUIRE_CAPABILITY(Capability::io_uring);
  auto ring = IoUring::create(4);
  ASSERT_TRUE(ring) << ring.error().message();
  io_uring_sqe* sqe = ring->get_sqe();
  ASSERT_NE(sqe, nullptr);
  io_uring_prep_nop(sqe);
  io_uring_sqe_set_data64(sqe, 77);
  auto submitted = ring->submit_and_wait(1);
  ASSERT_TRUE(submitted) << submitted.error().message();
  EXPECT_EQ(*submitted, 1u);
  auto cqe = ring->wait_cqe();
  ASSERT_TRUE(cqe) << cqe.error().message();
  EXPECT_EQ(io_uring_cqe_get_data64(*cqe), 77u);
  EXPECT_EQ((*cqe)->res, 0);
  ring->seen(*cqe);
  EXPECT_EQ(ring->peek_cqe(), nullptr);
}

TEST(IoUring, AFullSubmissionQueueIsSubmittedToMakeRoom) {
  ZC_REQUIRE_CAPABILITY(Capability::io_uring);
  auto ring = IoUring::create(2);
  ASSERT_TRUE(ring);
  for (int i = 0; i < 5; ++i) {
    io_uring_sqe* sqe = ring->get_sqe();
    ASSERT_NE(sqe, nullptr) << "request " << i;
    io_uring_prep_nop(sqe);
  }
  ASSERT_TRUE(ring->submit());
  int completions = 0;
  while (completions < 5) {
    auto cqe = ring->wait_cqe();
    ASSERT_TRUE(cqe);
    ring->seen(*cqe);
    ++completions;
  }
}

TEST(IoUring, MovesWithItsRingAndRegistersBuffers) {
  ZC_REQUIRE_CAPABILITY(Capability::io_uring_fixed_buffers);
  auto made = IoUring::create(4, IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, true);
  ASSERT_TRUE(made) << made.error().message();
  IoUring ring = std::move(*made);
  IoUring other = std::move(ring);
  ASSERT_NE(other.get(), nullptr);
  std::vector<char> memory(1 << 16);
  const iovec region{memory.data(), memory.size()};
  auto registered = other.register_buffers(std::span(&region, 1));
  ASSERT_TRUE(registered) << registered.error().message();
  EXPECT_TRUE(other.unregister_buffers());
  // Nothing registered any more: a second unregister is the kernel's ENXIO, named.
  auto again = other.unregister_buffers();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().operation(), "io_uring_unregister_buffers");
}

}  // namespace
}  // namespace zc::net
