// The snapshot guard: a writer thread hammers a buffer during many zero-copy sends of it, and
// every payload the receiver gets equals the buffer as it was when its send began; another
// thread's write waits for the completion, the sending thread's own is stopped loudly rather
// than held for ever, and a guard assigned over leaves its pages writable.
#include "zcopy/mem/snapshot_guard.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "net/send_test_support.hpp"
#include "support/capability_gate.hpp"
#include "support/child_process.hpp"
#include "support/sanitizer.hpp"
#include "zcopy/core/fd.hpp"
#include "zcopy/net/zerocopy_sender.hpp"

namespace zc::net {
namespace {

constexpr std::size_t kPage = 4096;

#if defined(__SANITIZE_THREAD__)
// libtsan's dynamic annotations: the calling thread's memory accesses go unrecorded between them.
extern "C" void AnnotateIgnoreReadsBegin(const char* file, int line);
extern "C" void AnnotateIgnoreReadsEnd(const char* file, int line);
void ignore_races_begin() {
  AnnotateIgnoreReadsBegin(__FILE__, __LINE__);
}
void ignore_races_end() {
  AnnotateIgnoreReadsEnd(__FILE__, __LINE__);
}
#else
void ignore_races_begin() {}
void ignore_races_end() {}
#endif

struct Anonymous {
  explicit Anonymous(std::size_t bytes) : size(bytes) {
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    data = p == MAP_FAILED ? nullptr : static_cast<std::byte*>(p);
  }
  ~Anonymous() {
    if (data != nullptr) ::munmap(data, size);
  }
  Anonymous(const Anonymous&) = delete;
  Anonymous& operator=(const Anonymous&) = delete;
  std::span<std::byte> bytes() { return {data, size}; }
  std::byte* data;
  std::size_t size;
};

// The writer and the sender touch the buffer from two threads; the kernel, not the C++ memory
// model, orders them, so both sides use relaxed atomics to keep the race checker informed.
std::uint64_t load_word(std::byte* at) {
  return std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(at))
      .load(std::memory_order_relaxed);
}

std::uint64_t snapshot_hash(std::span<std::byte> buffer) {
  std::uint64_t hash = 14695981039346656037ull;
  for (std::size_t at = 0; at < buffer.size(); at += 8) {
    const std::uint64_t word = load_word(buffer.data() + at);
    hash = test::fnv1a(std::as_bytes(std::span(&word, 1)), hash);
  }
  return hash;
}

// Sends `rounds` snapshots of a buffer a writer keeps changing; returns how many payloads
// differed from the snapshot taken when their send began.
std::size_t hammer(SnapshotGuard* guard, std::span<std::byte> buffer, std::size_t rounds,
                   std::uint64_t& writer_passes) {
  auto pair = test::tcp_pair();
  EXPECT_TRUE(pair);
  if (!pair) return rounds;
  std::vector<std::uint64_t> received;
  std::thread receiver([&, fd = pair->receiver.get()] {
    std::vector<std::byte> payload(buffer.size());
    for (;;) {
      const ssize_t n = ::recv(fd, payload.data(), payload.size(), MSG_WAITALL);
      if (n != static_cast<ssize_t>(payload.size())) break;
      received.push_back(test::fnv1a(payload));
    }
  });
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> passes{0};
  std::thread writer([&] {
    for (std::uint64_t v = 1; !stop.load(std::memory_order_relaxed); ++v) {
      for (std::size_t at = 0; at < buffer.size(); at += 8) {
        std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(buffer.data() + at))
            .store(v * 0x9E3779B97F4A7C15ull + at, std::memory_order_relaxed);
      }
      passes.fetch_add(1, std::memory_order_relaxed);
    }
  });
  std::vector<std::uint64_t> sent;
  {
    auto sender = ZeroCopySender::create(
        pair->sender.get(), {.method = SendMethod::msg_zerocopy, .zerocopy_threshold = 0});
    EXPECT_TRUE(sender);
    for (std::size_t r = 0; sender && r < rounds; ++r) {
      if (guard != nullptr) {
        EXPECT_TRUE(guard->protect(buffer));
      }
      sent.push_back(snapshot_hash(buffer));
      // The kernel, which TSan cannot see, orders the writer against the send: TSan's sendmsg
      // interceptor would report its own read of the buffer as a race.
      ignore_races_begin();
      auto ticket = sender->send(buffer, [&] {
        if (guard != nullptr) {
          EXPECT_TRUE(guard->release(buffer));
        }
      });
      ignore_races_end();
      EXPECT_TRUE(ticket) << ticket.error().message();
    }
    if (sender) {
      EXPECT_TRUE(sender->flush());
    }
  }
  stop = true;
  writer.join();
  ::shutdown(pair->sender.get(), SHUT_WR);
  receiver.join();
  writer_passes = passes.load();
  EXPECT_EQ(received.size(), sent.size());
  std::size_t differing = 0;
  for (std::size_t i = 0; i < std::min(sent.size(), received.size()); ++i) {
    differing += sent[i] != received[i] ? 1u : 0u;
  }
  return differing;
}

TEST(SnapshotGuard, WriterHammeringDuringSendsNeverChangesWhatIsReceived) {
  ZC_REQUIRE_CAPABILITY(Capability::msg_zerocopy);
  ZC_REQUIRE_CAPABILITY(Capability::userfaultfd_wp);
  Anonymous memory(16 * kPage);
  ASSERT_NE(memory.data, nullptr);
  auto guard = SnapshotGuard::create(memory.bytes());
  ASSERT_TRUE(guard) << guard.error().message();
  EXPECT_EQ(guard->mode(), SnapshotGuard::Mode::userfaultfd) << guard->detail();
  std::uint64_t passes = 0;
  const std::size_t rounds = zc::test::scaled(1000);
  EXPECT_EQ(hammer(&*guard, memory.bytes(), rounds, passes), 0u);
  EXPECT_GT(passes, 0u);  // the writer did run, between sends
  EXPECT_EQ(guard->pages_protected(), 0u);
  RecordProperty("writer_passes", std::to_string(passes));
}

// Without the guard the same hammering tears payloads (here about nine in ten), so the test
// above would fail if the guard did not hold writers back.
TEST(SnapshotGuard, WithoutTheGuardPayloadsTear) {
  ZC_REQUIRE_CAPABILITY(Capability::msg_zerocopy);
  Anonymous memory(16 * kPage);
  ASSERT_NE(memory.data, nullptr);
  std::uint64_t passes = 0;
  const std::size_t rounds = zc::test::scaled(1000);
  const std::size_t torn = hammer(nullptr, memory.bytes(), rounds, passes);
  EXPECT_GT(torn, 0u);
  RecordProperty("torn", std::to_string(torn) + " of " + std::to_string(rounds));
}

TEST(SnapshotGuard, MprotectFallbackMakesTheWriterFault) {
  const int code = zc::test::run_in_child([] {
    Anonymous memory(4 * kPage);
    if (memory.data == nullptr) return 2;
    auto guard = SnapshotGuard::create(memory.bytes(), SnapshotGuard::Mode::mprotect);
    if (!guard || guard->mode() != SnapshotGuard::Mode::mprotect) return 3;
    const auto page = memory.bytes().subspan(kPage, kPage);
    if (!guard->protect(page) || !guard->protect(page)) return 4;  // two sends in flight
    if (!guard->release(page)) return 5;
    memory.data[0] = std::byte{1};  // an unprotected page stays writable
    if (guard->pages_protected() != 1) return 6;
    std::fflush(nullptr);
    ::signal(SIGSEGV, SIG_DFL);         // the kernel's verdict, not a sanitizer's report
    memory.data[kPage] = std::byte{1};  // still held by the second send: faults
    return 0;
  });
  EXPECT_NE(code, 0) << "a write to a page in flight went through";
  EXPECT_EQ(code, 128 + SIGSEGV);
}

// Sends one page from `memory` with the guard protecting it, and returns with the send still in
// flight (its completion not yet run); false when that could not be set up.
bool send_one_page_in_flight(SnapshotGuard& guard, ZeroCopySender& sender,
                             std::span<std::byte> page, std::atomic<bool>& released) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    if (!guard.protect(page)) return false;
    auto ticket = sender.send(page, [&guard, page, &released] {
      released = true;
      EXPECT_TRUE(guard.release(page));
    });
    if (!ticket) return false;
    // send() may have read this very completion already; then the page is free again: retry.
    if (!sender.is_complete(*ticket)) return true;
  }
  return false;
}

TEST(SnapshotGuard, TheSendingThreadWritingToItsOwnSendInFlightIsStoppedLoudlyNotHeldForever) {
  ZC_REQUIRE_CAPABILITY(Capability::msg_zerocopy);
  ZC_REQUIRE_CAPABILITY(Capability::userfaultfd_wp);
  auto err = make_pipe();
  ASSERT_TRUE(err);
  const pid_t child = zc::test::spawn([&] {
    ::dup2(err->write_end.get(), STDERR_FILENO);
    Anonymous memory(4 * kPage);
    if (memory.data == nullptr) return 2;
    auto guard = SnapshotGuard::create(memory.bytes(), SnapshotGuard::Mode::userfaultfd);
    auto pair = test::tcp_pair();
    if (!guard || !pair) return 3;
    auto sender = ZeroCopySender::create(
        pair->sender.get(), {.method = SendMethod::msg_zerocopy, .zerocopy_threshold = 0});
    std::atomic<bool> released{false};
    if (!sender || !send_one_page_in_flight(*guard, *sender, memory.bytes().first(kPage), released))
      return 4;
    // Only this thread's sender can run the completion that releases the page.
    std::atomic_ref<std::byte>(memory.data[8]).store(std::byte{1}, std::memory_order_relaxed);
    return 0;  // the write went through with the send in flight
  });
  err->write_end.reset();
  // Refusing takes milliseconds; 60 s is reached only by a writer held for ever.
  const std::optional<int> status = zc::test::reap_within(child, std::chrono::seconds(60));
  std::string message(4096, '\0');
  const ssize_t n = ::read(err->read_end.get(), message.data(), message.size());
  message.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  ASSERT_TRUE(status) << "the sending thread still waited for its own send after 60 s";
  EXPECT_EQ(*status, 128 + SIGABRT) << message;
  EXPECT_NE(message.find("while its own send of it is in flight"), std::string::npos) << message;
  EXPECT_EQ(std::count(message.begin(), message.end(), '\n'), 1) << message;
}

TEST(SnapshotGuard, AnotherThreadsWriteWaitsForTheCompletionAndThenGoesThrough) {
  ZC_REQUIRE_CAPABILITY(Capability::msg_zerocopy);
  ZC_REQUIRE_CAPABILITY(Capability::userfaultfd_wp);
  Anonymous memory(4 * kPage);
  ASSERT_NE(memory.data, nullptr);
  auto pair = test::tcp_pair();
  ASSERT_TRUE(pair);
  std::atomic<bool> wrote{false};
  std::atomic<bool> released_first{false};
  std::thread writer;
  {
    auto guard = SnapshotGuard::create(memory.bytes(), SnapshotGuard::Mode::userfaultfd);
    ASSERT_TRUE(guard) << guard.error().message();
    auto sender = ZeroCopySender::create(
        pair->sender.get(), {.method = SendMethod::msg_zerocopy, .zerocopy_threshold = 0});
    ASSERT_TRUE(sender);
    std::atomic<bool> released{false};
    ASSERT_TRUE(send_one_page_in_flight(*guard, *sender, memory.bytes().first(kPage), released));
    writer = std::thread([&] {
      std::atomic_ref<std::byte>(memory.data[8]).store(std::byte{1}, std::memory_order_relaxed);
      released_first = released.load();
      wrote = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_FALSE(wrote.load()) << "the write went through with the send in flight";
    EXPECT_TRUE(sender->flush());  // runs the completion, which releases the page
    // Milliseconds; only a writer nobody wakes reaches 60 s (the guard's end then frees it).
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!wrote.load() && std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_TRUE(wrote.load()) << "the writer was still held 60 s after the completion";
  }
  writer.join();
  EXPECT_TRUE(released_first.load());
}

// In a child: a guard protecting a page of one region is assigned a guard of another; the first
// region's page must then take a write at once. A page left protected faults (mprotect) or holds
// the write for ever (userfaultfd), so the child ends with a signal or is killed after 60 s.
std::optional<int> write_after_assigning_over_an_active_guard(SnapshotGuard::Mode mode) {
  const pid_t child = zc::test::spawn([mode] {
    Anonymous first(2 * kPage);
    Anonymous second(2 * kPage);
    if (first.data == nullptr || second.data == nullptr) return 2;
    auto guard = SnapshotGuard::create(first.bytes(), mode);
    auto other = SnapshotGuard::create(second.bytes(), mode);
    if (!guard || !other || !guard->protect(first.bytes().first(kPage))) return 3;
    *guard = std::move(*other);
    std::fflush(nullptr);
    ::signal(SIGSEGV, SIG_DFL);  // the kernel's verdict, not a sanitizer's report
    first.data[0] = std::byte{1};
    return guard->pages_protected() == 0 ? 0 : 4;
  });
  return zc::test::reap_within(child, std::chrono::seconds(60));
}

TEST(SnapshotGuard, AssigningOverAnActiveMprotectGuardLeavesItsPagesWritable) {
  EXPECT_EQ(write_after_assigning_over_an_active_guard(SnapshotGuard::Mode::mprotect),
            std::optional<int>(0));
}

TEST(SnapshotGuard, AssigningOverAnActiveUserfaultfdGuardLeavesItsPagesWritable) {
  ZC_REQUIRE_CAPABILITY(Capability::userfaultfd_wp);
  EXPECT_EQ(write_after_assigning_over_an_active_guard(SnapshotGuard::Mode::userfaultfd),
            std::optional<int>(0));
}

TEST(SnapshotGuard, RefusesUnalignedRegionsAndForeignBuffers) {
  Anonymous memory(2 * kPage);
  EXPECT_FALSE(SnapshotGuard::create(memory.bytes().subspan(1, kPage)));
  auto guard = SnapshotGuard::create(memory.bytes().first(kPage));
  ASSERT_TRUE(guard);
  EXPECT_FALSE(guard->protect(memory.bytes().subspan(kPage, 10)));
  EXPECT_FALSE(guard->release(memory.bytes().first(10)));  // never protected
  ASSERT_TRUE(guard->protect(memory.bytes().first(10)));
  EXPECT_TRUE(guard->release(memory.bytes().subspan(100, 10)));  // on the same page
}

}  // namespace
}  // namespace zc::net
