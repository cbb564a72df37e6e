// The subscriber's data path: receiving descriptors in place, returning chunks, and sleeping
// without losing a wake-up (see "Sleeping" in publisher.cpp).
#include "zcopy/channel/subscriber.hpp"

#include <poll.h>
#include <sys/epoll.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "remote_fence.hpp"
#include "subscriber_state.hpp"
#include "zcopy/channel/channel_layout.hpp"
#include "zcopy/core/fd_passing.hpp"
#include "zcopy/core/syscall.hpp"
#include "zcopy/mem/buffer_pool.hpp"
#include "zcopy/mem/region.hpp"

namespace zc {

void Sample::reset() noexcept {
  if (owner_ == nullptr) return;
  std::exchange(owner_, nullptr)->release(chunk_);
  bytes_ = {};
}

Sample::Sample(Sample&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)),
      chunk_(other.chunk_),
      bytes_(std::exchange(other.bytes_, {})),
      sequence_(other.sequence_) {}

Sample& Sample::operator=(Sample&& other) noexcept {
  if (this != &other) {
    reset();
    owner_ = std::exchange(other.owner_, nullptr);
    chunk_ = other.chunk_;
    bytes_ = std::exchange(other.bytes_, {});
    sequence_ = other.sequence_;
  }
  return *this;
}

Subscriber::Subscriber(std::unique_ptr<detail::SubscriberState> state) noexcept
    : state_(std::move(state)) {}
Subscriber::Subscriber(Subscriber&&) noexcept = default;
Subscriber& Subscriber::operator=(Subscriber&&) noexcept = default;
Subscriber::~Subscriber() = default;

namespace detail {

Result<std::size_t> SubscriberState::take(std::span<Taken> out) {
  const std::uint64_t depth = geometry.queue_depth;
  for (;;) {
    // SYNC POINT (pairs with the release half of the publisher's compare-and-swap in
    // drop_oldest()): the publisher moves tail only past positions it has published, so the head
    // we load below is at least the one it saw then.
    std::uint64_t tail = ctl->tail.load(std::memory_order_acquire);
    std::size_t n = 0;
    for (; n < out.size(); ++n) {
      const DescriptorSlot& slot = slots[(tail + n) & (depth - 1)];
      // SYNC POINT (pairs with the release store of filled in Publisher::publish_n()): a slot
      // that holds position tail + n has its words and its payload visible. The common case
      // reads these lines and not head.
      if (slot.filled.load(std::memory_order_acquire) != tail + n + 1) break;
      out[n] = {slot.sequence.load(std::memory_order_relaxed),
                slot.chunk_and_length.load(std::memory_order_relaxed)};
    }
    if (n == 0) {
      const DescriptorSlot& slot = slots[tail & (depth - 1)];
      // An empty poll, a busy subscriber's usual case, reads the slot and not head: a slot that
      // still holds the entry one lap back (or none, on the first lap) has not been filled for
      // position tail, so nothing is queued as of that load, whatever head says by now. Reading
      // head at every empty poll cost a transfer of the line the publisher writes at every
      // publish. Anything else (a refill under drop_oldest, a slot filled since the loop looked,
      // nonsense) is sorted out against head below. Relaxed: nothing is read on the strength of
      // this load; a "not yet" only says nothing is queued (closed, below, still acquires), and
      // otherwise head is acquired and the slot read again with acquire before it is trusted.
      const std::uint64_t unfilled = tail >= depth ? tail - depth + 1 : 0;
      const bool not_yet = slot.filled.load(std::memory_order_relaxed) == unfilled;
      // SYNC POINT (pairs with the release store of head in Publisher::publish_n()): every
      // position below head has been filled, and closed (below) is read after head.
      const std::uint64_t head = not_yet ? tail : ctl->head.load(std::memory_order_acquire);
      // The publisher fills a slot before it stores head, so having taken the newest message
      // from its slot we may see head one behind our tail: nothing more is queued.
      if (head <= tail) {
        // SYNC POINT (pairs with the release store of closed in the publisher's close()): after
        // seeing closed, a second look at head sees everything that was ever published.
        if (ctl->closed.load(std::memory_order_acquire) != 0) {
          if (ctl->head.load(std::memory_order_acquire) > tail) continue;
          return fail(Errc::closed, "Subscriber::receive", "publisher closed");
        }
        if (publisher_dead) {
          return fail(Errc::closed, "Subscriber::receive",
                      "publisher pid " + std::to_string(publisher_pid) + " died");
        }
        // Run dry: a waiting publisher gets nothing more from us by waiting, whatever it asked.
        // Once is enough: until something arrives we make no progress its last look missed,
        // and every return from now on wakes it (release()).
        if (!idle) {
          taken_to = tail;
          idle = true;
          wake_publisher_if_due();
        }
        return 0;
      }
      // Something is queued. Under drop_oldest the publisher may have taken this entry back
      // (moving tail first) and even filled its slot again; or it filled the slot between our
      // two loads. Anything else means the indices are impossible.
      // SYNC POINT (pairs with the publisher's release store of filled and its compare-and-swap
      // of tail before any refill): the slot is read before tail is looked at again, so a refill
      // we see comes with the moved tail (looking at tail first let a drop and a refill fall
      // between the two looks, and a live queue was called corrupt).
      const std::uint64_t position = slot.filled.load(std::memory_order_acquire);
      if (ctl->tail.load(std::memory_order_acquire) != tail) continue;
      if (head - tail <= depth && position == tail + 1) continue;
      return fail(Errc::corrupt, "Subscriber::receive",
                  "queue indices head " + std::to_string(head) + ", tail " + std::to_string(tail) +
                      " and slot position " + std::to_string(position) +
                      " are impossible for depth " + std::to_string(depth));
    }
    // Whoever moves tail past a position owns the entry; under drop_oldest the publisher may
    // have taken some back (and refilled their slots), in which case what we read is discarded.
    // Under block nobody else moves tail, so a plain store does (no locked instruction).
    // SYNC POINT (pairs with the acquire load of tail in the publisher's refresh_tail()): our
    // reads of the slots happen before the publisher may refill them.
    if (geometry.backpressure == 0) {
      ctl->tail.store(tail + n, std::memory_order_release);
    } else if (!ctl->tail.compare_exchange_strong(tail, tail + n, std::memory_order_acq_rel,
                                                  std::memory_order_relaxed)) {
      continue;
    }
    taken_to = tail + n;
    idle = false;
    wake_publisher_if_due();
    return n;
  }
}

}  // namespace detail

namespace {

struct Checked {
  std::uint32_t chunk = 0;
  std::span<const std::byte> bytes;
};

// The payload a descriptor names, once checked against the pool; std::nullopt when it lies
// outside.
std::optional<Checked> check(const detail::SubscriberState& s, std::uint64_t packed) {
  const auto chunk = static_cast<std::uint32_t>(packed >> 32);
  const auto length = static_cast<std::uint32_t>(packed & 0xffff'ffff);
  if (chunk >= s.geometry.chunk_count || length > s.geometry.chunk_size) return std::nullopt;
  return Checked{
      chunk,
      std::span<const std::byte>(s.pool.bytes()).subspan(s.pool_geometry.offset_of(chunk), length)};
}

std::unexpected<Error> outside_the_pool(std::uint64_t packed) {
  return fail(Errc::corrupt, "Subscriber::receive",
              "descriptor chunk " + std::to_string(packed >> 32) + " length " +
                  std::to_string(packed & 0xffff'ffff) + " is outside the pool");
}

}  // namespace

Result<std::optional<Sample>> Subscriber::try_receive() {
  detail::SubscriberState& s = *state_;
  detail::SubscriberState::Taken taken;
  auto n = s.take(std::span(&taken, 1));
  if (!n) return std::unexpected(std::move(n.error()));
  if (*n == 0) return std::optional<Sample>();
  const auto checked = check(s, taken.packed);
  if (!checked) {
    // The publisher's own check will refuse the index if it is bogus.
    s.release(static_cast<std::uint32_t>(taken.packed >> 32));
    return outside_the_pool(taken.packed);
  }
  return std::optional<Sample>(Sample(&s, checked->chunk, checked->bytes, taken.sequence));
}

void SampleBatch::reset() noexcept {
  if (owner_ == nullptr) return;
  std::exchange(owner_, nullptr)->release(chunks_);
  chunks_.clear();
  entries_.clear();
}

SampleBatch::SampleBatch(SampleBatch&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)),
      entries_(std::move(other.entries_)),
      chunks_(std::move(other.chunks_)) {
  other.entries_.clear();
  other.chunks_.clear();
}

SampleBatch& SampleBatch::operator=(SampleBatch&& other) noexcept {
  if (this != &other) {
    reset();
    owner_ = std::exchange(other.owner_, nullptr);
    entries_ = std::move(other.entries_);
    chunks_ = std::move(other.chunks_);
    other.entries_.clear();
    other.chunks_.clear();
  }
  return *this;
}

Result<std::size_t> Subscriber::try_receive_n(SampleBatch& batch, std::size_t max) {
  detail::SubscriberState& s = *state_;
  batch.reset();
  max = std::min<std::size_t>(max, s.geometry.queue_depth);
  if (max == 0) return 0;
  // Scratch space, sized once and reused by every later call.
  if (s.taken.size() < max) s.taken.resize(max);
  auto n = s.take(std::span(s.taken).first(max));
  if (!n || *n == 0) return n;
  batch.entries_.resize(*n);
  batch.chunks_.resize(*n);
  batch.owner_ = &s;
  for (std::size_t i = 0; i < *n; ++i) {
    const auto checked = check(s, s.taken[i].packed);
    if (!checked) {
      // Everything taken goes back; the publisher refuses the bogus index.
      for (std::size_t k = 0; k < *n; ++k) {
        batch.chunks_[k] = static_cast<std::uint32_t>(s.taken[k].packed >> 32);
      }
      batch.reset();
      return outside_the_pool(s.taken[i].packed);
    }
    batch.chunks_[i] = checked->chunk;
    batch.entries_[i] = {checked->bytes, s.taken[i].sequence};
  }
  return n;
}

bool Subscriber::prepare_wait() noexcept {
  detail::SubscriberState& s = *state_;
  // SYNC POINT (pairs with the store of head and load of subscriber_sleeping in
  // Publisher::publish_n()): see "Sleeping" in publisher.cpp. seq_cst also where the publisher
  // relies on our membarrier instead: it costs nothing next to the system call.
  s.ctl->subscriber_sleeping.store(1, std::memory_order_seq_cst);
  if ((s.geometry.remote_fences & kPublisherFenced) != 0 && !s.unfenced) {
    // The publisher's half of the barrier: every thread of its process passes a full barrier
    // before this returns, so its next load of our flag sees it, or our load of head below sees
    // what it stored.
    if (!detail::fence_remote_threads()) s.unfenced = true;
  }
  // Greater, not different: the publisher fills a slot before it moves head, so after taking
  // the newest message head may sit one behind tail, for good if the publisher died between
  // the two stores. Only head beyond tail means something is queued.
  if (s.ctl->head.load(std::memory_order_seq_cst) > s.ctl->tail.load(std::memory_order_relaxed) ||
      s.ctl->closed.load(std::memory_order_relaxed) != 0 || s.publisher_dead) {
    s.ctl->subscriber_sleeping.store(0, std::memory_order_relaxed);
    return false;
  }
  return true;
}

// Spins between looks at the clock and the publisher's pidfd while busy-polling (a power of two
// minus one, used as a mask).
constexpr std::uint32_t kSpinsBetweenChecks = 1023;
// The spin budget adapts between this and SubscriberOptions::spin_count: halved by every spin
// that ends in sleep, doubled (plus this) by every one that finds a message. A subscriber whose
// spins keep failing (its publisher outnumbered by processes on too few CPUs, or slow) soon goes
// almost straight to sleep and leaves the CPU to the others; a fed one spins in full.
constexpr std::uint32_t kMinSpins = 64;

Result<void> Subscriber::wait_for_message(
    std::optional<std::chrono::steady_clock::time_point>& start,
    std::chrono::milliseconds timeout) {
  detail::SubscriberState& s = *state_;
  // Taken when the queue is first found empty, not per message: a clock read costs about a
  // tenth of receiving a small message.
  if (!start) start = Clock::now();
  const Clock::time_point deadline = *start + timeout;
  for (std::uint32_t i = 0; i < s.spin_budget; ++i) {
    cpu_relax();
    // The next slot only: head sits on a line every publish writes.
    const std::uint64_t tail = s.ctl->tail.load(std::memory_order_relaxed);
    if (s.slots[tail & (s.geometry.queue_depth - 1)].filled.load(std::memory_order_relaxed) ==
        tail + 1) {
      s.spin_budget = static_cast<std::uint32_t>(std::min<std::uint64_t>(
          s.options.spin_count, std::uint64_t{s.spin_budget} * 2 + kMinSpins));
      return {};
    }
    // However long the caller lets us spin, closing, the timeout and the publisher's death
    // still count: look at them every so often (cheaply: a load, a clock read and a poll that
    // never blocks).
    if ((i & kSpinsBetweenChecks) == kSpinsBetweenChecks) {
      if (s.ctl->closed.load(std::memory_order_relaxed) != 0) return {};
      if (Clock::now() >= deadline) break;
      pollfd death{s.pidfd.get(), POLLIN, 0};
      if (::poll(&death, 1, 0) > 0) {
        s.publisher_dead = true;
        return {};
      }
    }
  }
  // Spun in vain: the publisher is slow, or off its CPU because the processes outnumber the
  // CPUs, where our spinning takes the CPU it needs. Spin half as long next time.
  s.spin_budget = std::max(std::min(s.options.spin_count, kMinSpins), s.spin_budget / 2);
  if (!prepare_wait()) return {};
  // Without the fence the publisher expects, a wake-up can be missed: look again every so often.
  const int ms = s.unfenced ? std::min(remaining_ms(deadline), detail::kUnfencedSleepMs)
                            : remaining_ms(deadline);
  std::array<pollfd, 2> fds{pollfd{s.wake.get(), POLLIN, 0}, pollfd{s.pidfd.get(), POLLIN, 0}};
  auto ready = sys_call("poll", [&] { return ::poll(fds.data(), fds.size(), ms); });
  s.ctl->subscriber_sleeping.store(0, std::memory_order_relaxed);
  if (!ready) return std::unexpected(std::move(ready.error()));
  if ((fds[0].revents & POLLIN) != 0) drain_eventfd(s.wake.get());
  if ((fds[1].revents & POLLIN) != 0) s.publisher_dead = true;
  if (*ready == 0 && remaining_ms(deadline) == 0) {
    return fail(Errc::timeout, "Subscriber::receive",
                "no message within " + std::to_string(timeout.count()) + " ms");
  }
  return {};
}

Result<Sample> Subscriber::receive(std::chrono::milliseconds timeout) {
  std::optional<Clock::time_point> start;
  for (;;) {
    auto next = try_receive();
    if (!next) return std::unexpected(std::move(next.error()));
    if (*next) return std::move(**next);
    if (auto waited = wait_for_message(start, timeout); !waited) {
      return std::unexpected(std::move(waited.error()));
    }
  }
}

Result<std::size_t> Subscriber::receive_n(SampleBatch& batch, std::size_t max,
                                          std::chrono::milliseconds timeout) {
  std::optional<Clock::time_point> start;
  for (;;) {
    auto n = try_receive_n(batch, max);
    if (!n || *n != 0 || max == 0) return n;
    if (auto waited = wait_for_message(start, timeout); !waited) {
      return std::unexpected(std::move(waited.error()));
    }
  }
}

int Subscriber::fd() const noexcept {
  return state_->epoll.get();
}
std::uint64_t Subscriber::dropped() const noexcept {
  return state_->ctl->dropped.load(std::memory_order_relaxed);
}
std::uint32_t Subscriber::id() const noexcept {
  return state_->geometry.subscriber_id;
}
pid_t Subscriber::publisher_pid() const noexcept {
  return state_->publisher_pid;
}

}  // namespace zc
