// A peer may rewrite a shared ring header at any moment, also between the validation of a field
// and its use. attach() must build the ring from the copy it validated, never from a second read.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdint>
#include <cstring>

#include "support/child_process.hpp"
#include "support/sanitizer.hpp"
#include "zcopy/mem/region.hpp"
#include "zcopy/ring/spsc_ring.hpp"

namespace zc {
namespace {

constexpr std::size_t kCapacity = 64;

TEST(SpscRingHeader, ARingIsBuiltFromTheValidatedCopyNotFromTheSharedHeader) {
  // The ring's memory, then a guard area no ring of kCapacity slots may touch.
  constexpr std::size_t kRingBytes = SpscRing<std::uint64_t>::bytes_for(kCapacity);
  constexpr std::size_t kGuardBytes = 4096;
  auto region = Region::create_shared(kRingBytes + kGuardBytes);
  ASSERT_TRUE(region.has_value()) << region.error().message();
  ASSERT_TRUE(SpscRing<std::uint64_t>::create_in(region->bytes(), kCapacity).has_value());
  std::memset(region->data() + kRingBytes, 0xa5, kGuardBytes);
  auto* header = reinterpret_cast<SpscRingHeader*>(region->data());

  const SpscRingHeaderCopy copy = copy_spsc_ring_header(*header);
  ASSERT_TRUE(validate_spsc_ring_header(copy, kRingBytes, sizeof(std::uint64_t)));
  // After validation the peer claims a ring as large as the whole memory.
  header->capacity = 128;
  auto ring =
      SpscRing<std::uint64_t>::attach(region->bytes().first(kRingBytes + kGuardBytes), copy);
  ASSERT_TRUE(ring.has_value()) << ring.error().message();
  EXPECT_EQ(ring->capacity(), kCapacity);
  std::size_t pushed = 0;
  while (pushed < 4 * kCapacity && ring->try_push(~std::uint64_t{0})) ++pushed;
  EXPECT_EQ(pushed, kCapacity);
  for (std::size_t i = 0; i < kGuardBytes; ++i) {
    ASSERT_EQ(region->data()[kRingBytes + i], std::byte{0xa5}) << "written past the ring at " << i;
  }
}

TEST(SpscRingHeader, AttachBuildsFromTheHeaderItValidatedWhileAPeerRewritesIt) {
  auto region = Region::create_shared(SpscRing<std::uint64_t>::bytes_for(kCapacity));
  ASSERT_TRUE(region.has_value()) << region.error().message();
  ASSERT_TRUE(SpscRing<std::uint64_t>::create_in(region->bytes(), kCapacity).has_value());
  auto* header = reinterpret_cast<SpscRingHeader*>(region->data());

  // The peer: another process flipping the capacity between the true one and one far larger
  // than the memory, as fast as it can, until it is killed.
  const pid_t peer = test::spawn([&] {
    volatile std::uint64_t* capacity = &header->capacity;
    for (;;) {
      *capacity = std::uint64_t{1} << 30;
      *capacity = kCapacity;
    }
    return 0;
  });
  ASSERT_GT(peer, 0);
  // Start once the peer runs: attaching before that would prove nothing.
  while (*static_cast<volatile std::uint64_t*>(&header->capacity) == kCapacity) {
  }
  const std::size_t attempts = test::kSanitized ? 1'000'000 : 10'000'000;
  std::size_t attached = 0;
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < attempts && wrong == 0; ++i) {
    auto ring = SpscRing<std::uint64_t>::attach(region->bytes());
    if (!ring) continue;  // it read the huge capacity and refused it: right
    ++attached;
    if (ring->capacity() != kCapacity) ++wrong;
  }
  ::kill(peer, SIGKILL);
  EXPECT_EQ(test::reap(peer), 128 + SIGKILL);
  EXPECT_EQ(wrong, 0U) << "a ring was built with a capacity other than the one validated";
  EXPECT_GT(attached, 0U);
}

}  // namespace
}  // namespace zc
