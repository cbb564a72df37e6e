// A subscriber that goes to sleep just as the publisher publishes must always be woken. Where
// membarrier is available the publisher publishes without a fence per message and a subscriber on
// its way to sleep forces one on it instead ("Sleeping" in publisher.cpp); a hole in either half
// loses a wake-up, and the subscriber sleeps until its timeout.
//
// The subscriber (spin count 0: every empty receive goes to sleep) acknowledges each message
// through a shared counter and at once receives again; the publisher, in another process,
// publishes the next message as soon as it sees the acknowledgement, so the two race: the
// publish lands before the subscriber's flag, between the flag and its look at head, or while it
// sleeps, as the jitter of the two cores has it. Against broken builds on a 2-vCPU VM: a
// subscriber that skipped its look at head after setting its flag lost a wake-up within 25-60
// thousand cycles; one that skipped only the membarrier (so the publisher's store of head could
// still sit in its store buffer) lost one at cycle 154 thousand in one run of two. Added random
// delays spread the publishes too thinly over the subscriber's way into sleep to find either.
#include <gtest/gtest.h>
#include <linux/membarrier.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>

#include "channel_test_support.hpp"
#include "support/capability_gate.hpp"
#include "support/sanitizer.hpp"

namespace {

using namespace std::chrono_literals;
using namespace zc::test;

// Lives in a shared anonymous mapping, made before the fork.
struct Shared {
  std::atomic<std::uint64_t> acknowledged{0};   // messages the subscriber has received
  std::atomic<std::uint32_t> remote_fences{0};  // 1: the publisher publishes without fences
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

TEST(SleepWakeRace, ASubscriberFallingAsleepAsTheNextMessageIsPublishedIsAlwaysWoken) {
  const std::uint64_t cycles = kSanitized ? 20'000 : 200'000;
  void* memory =
      ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(memory, MAP_FAILED);
  auto* shared = ::new (memory) Shared{};
  const std::string name = unique_channel("sleepwake");
  const pid_t publisher_pid = spawn([&] {
    auto publisher = zc::Publisher::create(
        name, {.chunk_size = 64, .chunk_count = 8, .queue_depth = 4, .timeout = 10'000ms});
    if (!publisher || !publisher->wait_for_subscribers(1, 10s)) return 1;
    shared->remote_fences.store(publisher->fences() == "membarrier" ? 1 : 0);
    for (std::uint64_t k = 0; k < cycles; ++k) {
      const auto give_up = std::chrono::steady_clock::now() + 10s;
      while (shared->acknowledged.load(std::memory_order_acquire) < k) {
        if (std::chrono::steady_clock::now() > give_up) return 2;
      }
      if (!publish_message(*publisher)) return 3;
    }
    publisher->close();
    return 0;
  });
  ASSERT_GT(publisher_pid, 0);
  // A failed assertion below must not leave the publisher running.
  struct Reaper {
    pid_t pid;
    bool reaped = false;
    ~Reaper() {
      if (!reaped) (void)reap_within(pid, 0ms);
    }
  } reaper{publisher_pid};
  auto subscriber = zc::Subscriber::connect(name, 10s, {.spin_count = 0});
  ASSERT_TRUE(subscriber) << subscriber.error().message();
  for (std::uint64_t k = 0; k < cycles; ++k) {
    // 5 s: a woken subscriber takes microseconds; only a lost wake-up sleeps this long.
    auto sample = subscriber->receive(5s);
    ASSERT_TRUE(sample) << "message " << k << ": " << sample.error().message();
    ASSERT_EQ(sample->sequence(), k);
    ASSERT_TRUE(check_message(sample->bytes(), k));
    sample->reset();
    shared->acknowledged.store(k + 1, std::memory_order_release);
  }
  auto end = subscriber->receive(5s);
  ASSERT_FALSE(end);
  EXPECT_EQ(end.error().code(), zc::Errc::closed) << end.error().message();
  reaper.reaped = true;
  EXPECT_EQ(reap_within(publisher_pid, 30s), std::optional<int>(0));
  RecordProperty("publisher_fences", shared->remote_fences.load() != 0 ? "membarrier" : "seq_cst");
  ::munmap(memory, sizeof(Shared));
}

// The fenceless path is the one the race above is about: a publisher uses it wherever the kernel
// offers membarrier, except in ThreadSanitizer builds, which cannot model it.
TEST(SleepWakeRace, APublisherPublishesWithoutFencesWhereMembarrierIsOffered) {
  const std::string name = unique_channel("fences");
  auto publisher = zc::Publisher::create(name, {.chunk_size = 64, .chunk_count = 4});
  ASSERT_TRUE(publisher) << publisher.error().message();
  const std::string fences(publisher->fences());
  if (kThreadSanitized) {
    EXPECT_TRUE(fences.starts_with("seq_cst (")) << fences;
    return;
  }
  const long offered = ::syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0U, 0);
  constexpr long kNeeded =
      MEMBARRIER_CMD_GLOBAL_EXPEDITED | MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED;
  if (offered < 0 || (offered & kNeeded) != kNeeded) {
    ZC_SKIP_BECAUSE("the kernel offers no MEMBARRIER_CMD_GLOBAL_EXPEDITED: " + fences);
  }
  EXPECT_EQ(fences, "membarrier");
}

}  // namespace
