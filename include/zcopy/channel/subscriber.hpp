// zcopy/channel/subscriber.hpp: the reading end of a named channel (see publisher.hpp).
//
//   auto sub = zc::Subscriber::connect("prices", std::chrono::seconds(5));
//   for (;;) {
//     zc::Result<zc::Sample> sample = sub->receive(std::chrono::seconds(1));
//     if (!sample) break;                    // Errc::closed at end of stream, Errc::timeout, ...
//     consume(sample->bytes());              // read in place, read-only
//   }                                        // the chunk goes back when the Sample is destroyed
//
// Payloads are mapped read-only: the kernel refuses any write to them. Each Sample holds one
// chunk reference, returned to the publisher (through the release ring) when it is destroyed; a
// subscriber that holds samples forever starves the pool (block mode) or, under drop_oldest,
// keeps only those chunks while newer messages flow past.
//
// End of stream: once the publisher closed, receive() drains what was queued and then fails with
// Errc::closed "publisher closed"; if the publisher's process dies instead (watched with a pidfd),
// it drains and fails with Errc::closed "publisher pid N died".
//
// Synchronization. A Subscriber and its Samples are used by one thread; a Sample must not outlive
// its Subscriber (moving the Subscriber is fine).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "zcopy/channel/channel_options.hpp"
#include "zcopy/core/error.hpp"

namespace zc {

namespace detail {
struct SubscriberState;
}

// One received message: a read-only view of its chunk and its sequence number. Move-only.
class Sample {
 public:
  Sample() noexcept = default;
  Sample(Sample&& other) noexcept;
  Sample& operator=(Sample&& other) noexcept;
  Sample(const Sample&) = delete;
  Sample& operator=(const Sample&) = delete;
  ~Sample() { reset(); }

  std::span<const std::byte> bytes() const noexcept { return bytes_; }
  // The publisher's count of messages before this one; gaps mean the subscriber joined late or
  // lost messages to drop_oldest.
  std::uint64_t sequence() const noexcept { return sequence_; }
  std::uint32_t chunk() const noexcept { return chunk_; }
  bool valid() const noexcept { return owner_ != nullptr; }

  // Gives the chunk back now.
  void reset() noexcept;

 private:
  friend class Subscriber;
  Sample(detail::SubscriberState* owner, std::uint32_t chunk, std::span<const std::byte> bytes,
         std::uint64_t sequence) noexcept
      : owner_(owner), chunk_(chunk), bytes_(bytes), sequence_(sequence) {}

  detail::SubscriberState* owner_ = nullptr;  // borrowed
  std::uint32_t chunk_ = 0;
  std::span<const std::byte> bytes_;
  std::uint64_t sequence_ = 0;
};

// Messages received together by Subscriber::receive_n(): read-only views of their chunks and
// their sequence numbers. The chunks go back to the publisher all at once (one pass over the
// release ring) on reset(), on destruction, or when the batch is filled again. Reuse one batch
// for every call: after the first its storage is never allocated again. Move-only.
class SampleBatch {
 public:
  SampleBatch() noexcept = default;
  SampleBatch(SampleBatch&& other) noexcept;
  SampleBatch& operator=(SampleBatch&& other) noexcept;
  SampleBatch(const SampleBatch&) = delete;
  SampleBatch& operator=(const SampleBatch&) = delete;
  ~SampleBatch() { reset(); }

  std::size_t size() const noexcept { return chunks_.size(); }
  bool empty() const noexcept { return chunks_.empty(); }
  std::span<const std::byte> bytes(std::size_t i) const noexcept { return entries_[i].bytes; }
  std::uint64_t sequence(std::size_t i) const noexcept { return entries_[i].sequence; }
  std::uint32_t chunk(std::size_t i) const noexcept { return chunks_[i]; }

  // Gives every chunk back now.
  void reset() noexcept;

 private:
  friend class Subscriber;
  struct Entry {
    std::span<const std::byte> bytes;
    std::uint64_t sequence = 0;
  };
  detail::SubscriberState* owner_ = nullptr;  // borrowed; set while chunks_ is not empty
  std::vector<Entry> entries_;
  std::vector<std::uint32_t> chunks_;  // contiguous, so they go back in one release-ring pass
};

class Subscriber {
 public:
  // Connects to channel `name`, retrying until a publisher listens, and waits up to `timeout` to
  // be admitted. Errc::rejected when refused (with the publisher's reason), Errc::timeout,
  // Errc::corrupt when what the publisher sent does not validate.
  static Result<Subscriber> connect(std::string_view name, std::chrono::milliseconds timeout,
                                    const SubscriberOptions& options = {});

  Subscriber(Subscriber&&) noexcept;
  Subscriber& operator=(Subscriber&&) noexcept;
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;
  // Leaves the channel; the publisher reclaims whatever this subscriber still held.
  ~Subscriber();

  // The next message if one is queued, std::nullopt if none is; Errc::closed after end of stream
  // once the queue is drained, Errc::corrupt if the publisher's descriptors are impossible.
  Result<std::optional<Sample>> try_receive();
  // Waits up to `timeout` for the next message: spins, then sleeps on the eventfd.
  Result<Sample> receive(std::chrono::milliseconds timeout);

  // Batches: first gives back what `batch` held, then fills it with up to `max` queued messages,
  // taken with one store of the queue index. try_receive_n returns 0 when none is queued;
  // receive_n waits for at least one as receive() does. Errors as for try_receive().
  Result<std::size_t> try_receive_n(SampleBatch& batch, std::size_t max);
  Result<std::size_t> receive_n(SampleBatch& batch, std::size_t max,
                                std::chrono::milliseconds timeout);

  // For an external event loop: an epoll descriptor that becomes readable when a message arrives
  // or the publisher goes away, but only after prepare_wait() returned true. Borrowed.
  int fd() const noexcept;
  // Announces that the caller is about to sleep on fd(); false when a message (or the end) is
  // already there, in which case receive instead of sleeping.
  bool prepare_wait() noexcept;

  // Messages this subscriber lost to drop_oldest, as counted by the publisher.
  std::uint64_t dropped() const noexcept;
  std::uint32_t id() const noexcept;
  pid_t publisher_pid() const noexcept;

 private:
  explicit Subscriber(std::unique_ptr<detail::SubscriberState> state) noexcept;
  // Spins, then sleeps on the eventfd, until a message may be there; Errc::timeout once
  // `timeout` has passed since `start` (set at the first call).
  Result<void> wait_for_message(std::optional<std::chrono::steady_clock::time_point>& start,
                                std::chrono::milliseconds timeout);
  std::unique_ptr<detail::SubscriberState> state_;
};

}  // namespace zc
