// The snapshot guard: a writer thread hammers a buffer during many zero-copy sends of it, and
// every payload the receiver gets equals the buffer as it was when its send began.
#include "zcopy/net/snapshot_guard.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <atomic>
#include <thread>
#include <vector>

#include "send_test_support.hpp"
#include "support/capability_gate.hpp"
#include "support/child_process.hpp"
#include "support/sanitizer.hpp"
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

TEST(SnapshotGuard, RefusesUnalignedRegionsAndForeignBuffers) {
  Anonymous memory(2 * kPage);
  EXPECT_FALSE(SnapshotGuard::create(memory.bytes().subspan(1, kPage)));
  auto guard = SnapshotGuard::create(memory.bytes().first(kPage));
  ASSERT_TRUE(guard);
  EXPECT_FALSE(guard->protect(memory.bytes().subspan(kPage, 10)));
  EXPECT_FALSE(guard->release(memory.bytes().first(10)));  // never protected
}

}  // namespace
}  // namespace zc::net
