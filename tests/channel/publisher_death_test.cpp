// Publishers killed at random points of their stream: a subscriber must read every message that
// was published before the kill, intact and in order, and then learn of the death, never see a
// half-written message, and never hang.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <random>
#include <thread>

#include "channel_test_support.hpp"
#include "support/sanitizer.hpp"
#include "zcopy/channel/channel_layout.hpp"
#include "zcopy/mem/region.hpp"

namespace {

using namespace std::chrono_literals;
using namespace zc::test;

TEST(PublisherDeath, RandomlyKilledPublishersNeverShowATornOrMissingMessage) {
  const std::size_t kills = zc::test::kSanitized ? 20 : 200;
  std::mt19937 random(777);
  std::chrono::nanoseconds slowest{0};
  std::uint64_t messages_checked = 0;
  for (std::size_t k = 0; k < kills; ++k) {
    const std::string name = unique_channel("pubkill") + "-" + std::to_string(k);
    const pid_t publisher_pid = spawn([&] {
      auto publisher = zc::Publisher::create(
          name, {.chunk_size = 1024, .chunk_count = 16, .queue_depth = 8, .timeout = 5000ms});
      if (!publisher || !publisher->wait_for_subscribers(1, 10s)) return 1;
      for (;;) {
        if (!publish_message(*publisher)) return 2;
      }
    });
    auto subscriber = zc::Subscriber::connect(name, 10s);
    ASSERT_TRUE(subscriber) << subscriber.error().message();

    // Read a random stretch, kill the publisher wherever it happens to be, then drain.
    const std::uint64_t before_kill = random() % 200;
    std::uint64_t next = 0;
    for (; next < before_kill; ++next) {
      auto sample = subscriber->receive(5s);
      ASSERT_TRUE(sample) << sample.error().message();
      ASSERT_EQ(sample->sequence(), next);
      ASSERT_TRUE(check_message(sample->bytes(), next)) << "torn message " << next;
    }
    ASSERT_EQ(::kill(publisher_pid, SIGKILL), 0);
    const auto killed = std::chrono::steady_clock::now();
    for (;; ++next) {
      // 30 s: only a death that goes unnoticed takes that long (bench measures how fast).
      auto sample = subscriber->receive(30s);
      if (!sample) {
        ASSERT_EQ(sample.error().code(), zc::Errc::closed) << sample.error().message();
        break;
      }
      ASSERT_EQ(sample->sequence(), next) << "a message went missing";
      ASSERT_TRUE(check_message(sample->bytes(), next)) << "torn message " << next;
    }
    slowest = std::max(slowest, std::chrono::steady_clock::now() - killed);
    messages_checked += next;
    ASSERT_EQ(reap(publisher_pid), 128 + SIGKILL);
  }
  // Draining what was queued before the kill is included: at most queue_depth small messages.
  std::printf("[ figures ] %zu publisher kills, %llu messages checked, slowest detection %.2f ms\n",
              kills, static_cast<unsigned long long>(messages_checked),
              static_cast<double>(slowest.count()) / 1e6);
}

// The subscriber's own mapping of its control region, found among this process's descriptors by
// the name the publisher gave the memfd.
std::optional<zc::Region> own_control_region(const std::string& name) {
  const std::string wanted = "/memfd:zcopy-channel-" + name + " ";
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code error;
    const std::string target = std::filesystem::read_symlink(entry.path(), error).string();
    if (error || !target.starts_with(wanted)) continue;
    auto fd = zc::Fd::open(entry.path().string(), O_RDWR | O_CLOEXEC);
    if (!fd) continue;
    auto region = zc::Region::attach(std::move(*fd), zc::Access::read_write);
    if (region && zc::validate_channel_header(region->bytes())) return std::move(*region);
  }
  return std::nullopt;
}

// The race the random kills above find about once in a thousand: the publisher fills the slot
// (the subscriber takes the message from there) and dies before it moves head, which is left one
// behind tail for good. Staged here exactly: head is put back by one, then the publisher killed.
TEST(PublisherDeath, APublisherKilledBetweenFillingASlotAndMovingHeadIsSeenDead) {
  const std::string name = unique_channel("pubkill-head");
  const pid_t publisher_pid = spawn([&] {
    auto publisher = zc::Publisher::create(name, {.chunk_size = 256, .chunk_count = 8});
    if (!publisher || !publisher->wait_for_subscribers(1, 10s)) return 1;
    for (int i = 0; i < 3; ++i) {
      if (!publish_message(*publisher)) return 2;
    }
    ::pause();
    return 3;
  });
  auto subscriber = zc::Subscriber::connect(name, 10s);
  ASSERT_TRUE(subscriber) << subscriber.error().message();
  for (std::uint64_t next = 0; next < 3; ++next) {
    auto sample = subscriber->receive(5s);
    ASSERT_TRUE(sample) << sample.error().message();
    ASSERT_TRUE(check_message(sample->bytes(), next));
  }
  auto control = own_control_region(name);
  ASSERT_TRUE(control) << "the subscriber's control region is not among its descriptors";
  const auto geometry = zc::validate_channel_header(control->bytes());
  auto& ctl = *reinterpret_cast<zc::ChannelControl*>(control->data() + geometry->control_offset);
  ASSERT_EQ(ctl.head.load(), 3U);
  ctl.head.store(2);
  ASSERT_EQ(::kill(publisher_pid, SIGKILL), 0);

  auto receiving = std::async(std::launch::async, [&] { return subscriber->receive(2s); });
  if (receiving.wait_for(20s) != std::future_status::ready) {
    // A receive spinning past its own timeout cannot be interrupted: say so and stop here.
    std::fprintf(stderr, "receive() spun past its 2 s timeout: the death went unnoticed\n");
    std::abort();
  }
  auto sample = receiving.get();
  ASSERT_FALSE(sample) << "no fourth message was published";
  EXPECT_EQ(sample.error().code(), zc::Errc::closed) << sample.error().message();
  EXPECT_EQ(reap(publisher_pid), 128 + SIGKILL);
}

// A publisher killed in the middle of publish_n(): the slots of the batch are filled but head was
// never moved. Staged as above: a batch of five goes out, head is put back to before it, then the
// publisher is killed. receive_n() hands over the five (their slots were complete before each was
// marked filled) and then reports the death; it neither calls the indices impossible (head behind
// tail) nor waits for a head that will never move.
TEST(PublisherDeath, APublisherKilledInsideABatchIsSeenDeadAfterTheFilledSlots) {
  const std::string name = unique_channel("pubkill-batch");
  const pid_t publisher_pid = spawn([&] {
    auto publisher = zc::Publisher::create(name, {.chunk_size = 256, .chunk_count = 16});
    if (!publisher || !publisher->wait_for_subscribers(1, 10s)) return 1;
    std::array<zc::ChunkLoan, 5> loans;
    std::array<std::size_t, 5> lengths{};
    auto loaned = publisher->loan_n(loans);
    if (!loaned || *loaned != loans.size()) return 2;
    for (std::size_t i = 0; i < loans.size(); ++i) lengths[i] = write_message(loans[i].bytes(), i);
    if (!publisher->publish_n(loans, lengths)) return 3;
    ::pause();
    return 4;
  });
  auto subscriber = zc::Subscriber::connect(name, 10s);
  ASSERT_TRUE(subscriber) << subscriber.error().message();
  auto control = own_control_region(name);
  ASSERT_TRUE(control) << "the subscriber's control region is not among its descriptors";
  const auto geometry = zc::validate_channel_header(control->bytes());
  auto& ctl = *reinterpret_cast<zc::ChannelControl*>(control->data() + geometry->control_offset);
  const auto published_by = std::chrono::steady_clock::now() + 10s;
  while (ctl.head.load() != 5 && std::chrono::steady_clock::now() < published_by) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(ctl.head.load(), 5U);
  ctl.head.store(0);
  ASSERT_EQ(::kill(publisher_pid, SIGKILL), 0);
  EXPECT_EQ(reap(publisher_pid), 128 + SIGKILL);

  // Each receive_n() under a guard: one spinning past its own timeout cannot be interrupted.
  zc::SampleBatch batch;
  auto guarded_receive_n = [&] {
    auto receiving =
        std::async(std::launch::async, [&] { return subscriber->receive_n(batch, 16, 2s); });
    if (receiving.wait_for(20s) != std::future_status::ready) {
      std::fprintf(stderr, "receive_n() spun past its 2 s timeout\n");
      std::abort();
    }
    return receiving.get();
  };
  auto got = guarded_receive_n();
  ASSERT_TRUE(got) << got.error().message();
  ASSERT_EQ(*got, 5U) << "the five filled slots are the publisher's last messages";
  for (std::size_t i = 0; i < batch.size(); ++i) {
    EXPECT_EQ(batch.sequence(i), i);
    EXPECT_TRUE(check_message(batch.bytes(i), i));
  }
  auto after = guarded_receive_n();
  ASSERT_FALSE(after) << "nothing was published after the batch";
  EXPECT_EQ(after.error().code(), zc::Errc::closed) << after.error().message();
  EXPECT_NE(after.error().message().find("died"), std::string::npos) << after.error().message();
}

}  // namespace
