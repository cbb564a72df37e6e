// zcopy/channel/publisher.hpp: the writing end of a named cross-process publish/subscribe channel.
// Payloads are written once, in place, in shared memory; only descriptors (chunk index, length,
// sequence) travel to subscribers, and only chunk indices travel back.
//
//   auto pub = zc::Publisher::create("prices", {.chunk_size = 4096});
//   pub->wait_for_subscribers(1, std::chrono::seconds(5));
//   zc::Result<zc::ChunkLoan> loan = pub->loan();             // a writable chunk
//   std::size_t n = format_quote(loan->bytes());              // write in place
//   pub->publish(std::move(*loan), n);                        // to every current subscriber
//   pub->close();                                             // end of stream
//
// Admission. Subscribers connect to the abstract socket "@zcopy/channel/<name>" and send a hello;
// the kernel-stamped credentials of that message must match the creating user or
// ChannelOptions::allowed_group. The credentials the kernel recorded at connect (SO_PEERCRED)
// are checked first, so a stranger is refused before anything is made for it. An admitted
// subscriber receives four descriptors: the payload pool (read-only, sealed so nobody can ever
// map it writable again), its own control region (channel_layout.hpp), its wake eventfd and the
// publisher's wake eventfd.
//
// Silent connections. At most ChannelOptions::max_pending connections wait for their hello, each
// for at most hello_timeout; a newer one pushes out the oldest (stats().silent counts both).
// When descriptors run out (EMFILE, ENFILE), silent connections make room, and a connection that
// cannot get one is refused; the publisher never spins on its listener.
//
// Ownership of chunks. A published chunk is referenced once per subscriber it went to; the
// counts, and which chunk each subscriber holds, live in this object's private memory, never in
// shared memory. The chunk returns to the pool when the last subscriber gives it back (or leaves,
// dies, or loses it to drop_oldest). A returned index that this subscriber does not hold
// (out of range, never sent, or already returned) is rejected and counted in stats().
//
// Liveness. Each subscriber's socket and a pidfd of its process are watched: a clean leave (the
// socket closes) or a death (the pidfd fires) reclaims every chunk it held. The pid comes from the
// credentials of its hello; had it died and the pid been reused before pidfd_open, its socket
// would already read as closed, so the wrong process is never watched for long.
//
// Synchronization. A Publisher is used by one thread, and so are its loans: a ChunkLoan from
// loan() is published or dropped on that thread (the pool is PoolOptions::exclusive). It does its
// housekeeping (admitting, reclaiming, reading returns) inside loan(), publish(),
// wait_for_subscribers() and service(); an otherwise idle owner polls fd() and calls service() when
// it is readable. Wake-ups: see "Sleeping" in publisher.cpp.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "zcopy/channel/channel_options.hpp"
#include "zcopy/core/error.hpp"
#include "zcopy/mem/buffer_pool.hpp"

namespace zc {

struct PublisherStats {
  std::size_t subscribers = 0;         // admitted and still connected
  std::uint64_t published = 0;         // messages published (the next sequence number)
  std::uint64_t dropped = 0;           // queue entries taken back by drop_oldest
  std::uint64_t rejected_returns = 0;  // returned indices that were bogus or repeated
  std::uint64_t refused = 0;  // connections refused (credentials, full, bad hello, no descriptors)
  std::uint64_t silent = 0;   // connections closed before their hello: too late or crowded out
  std::uint64_t left = 0;     // subscribers that closed their socket
  std::uint64_t died = 0;     // subscribers whose process died
  std::uint64_t faulted = 0;  // subscribers cut off for corrupting their queue
  std::uint64_t reclaimed = 0;  // chunk references taken back from departed subscribers
  // Times a subscriber woke this publisher while it waited for queue room or a chunk (eventfd
  // signals). A waiting publisher asks each subscriber for half a queue or half the chunks it
  // holds before it is worth waking, so this stays well under one per message.
  std::uint64_t wakeups = 0;
};

namespace detail {
struct PublisherState;
}

class Publisher {
 public:
  // Creates the pool and starts listening on "@zcopy/channel/<name>". Errc::invalid_argument for
  // bad sizes or names; EADDRINUSE when the channel already has a publisher.
  static Result<Publisher> create(std::string_view name, const ChannelOptions& options = {});

  Publisher(Publisher&&) noexcept;
  Publisher& operator=(Publisher&&) noexcept;
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;
  // Closes the channel (as close()) and stops listening.
  ~Publisher();

  // A free chunk to write into. Under Backpressure::block waits up to options.timeout
  // (Errc::timeout); under drop_oldest takes back queued messages to free one, and waits only if
  // every chunk is held by subscribers' live samples.
  Result<ChunkLoan> loan();

  // Sends the first `length` bytes of the loaned chunk to every current subscriber; returns its
  // sequence number. The loan is consumed only on success: on Errc::timeout (block mode, some
  // subscriber's queue stayed full) no subscriber received it and the caller still owns the loan.
  Result<std::uint64_t> publish(ChunkLoan&& loan, std::size_t length);

  // Batches, for small messages: the queue index, the wake-up check and (on the subscriber's
  // side, Subscriber::receive_n) the return of the chunks cost once per batch instead of once per
  // message.
  //
  // Fills `loans` (which hold no chunk) with up to loans.size() free chunks; waits as loan() does,
  // but only for the first. Returns how many it filled (at least one).
  Result<std::size_t> loan_n(std::span<ChunkLoan> loans);
  // Sends loans[i] with its first lengths[i] bytes, in order, to every current subscriber. All or
  // nothing: on Errc::timeout no subscriber received any of them and the caller still owns every
  // loan. 1 to queue_depth messages; returns the sequence number of the first.
  Result<std::uint64_t> publish_n(std::span<ChunkLoan> loans, std::span<const std::size_t> lengths);
  // As above, but a wait ends (Errc::timeout) at `until` when that comes before options.timeout
  // does: for callers with a time budget of their own.
  Result<std::size_t> loan_n(std::span<ChunkLoan> loans,
                             std::chrono::steady_clock::time_point until);
  Result<std::uint64_t> publish_n(std::span<ChunkLoan> loans, std::span<const std::size_t> lengths,
                                  std::chrono::steady_clock::time_point until);

  // End of stream: subscribers drain what is queued and then get Errc::closed. Idempotent.
  void close();

  // Admits, reclaims and reads returns without waiting.
  void service();
  // Services until at least `count` subscribers are connected; Errc::timeout otherwise.
  Result<void> wait_for_subscribers(std::size_t count, std::chrono::milliseconds timeout);

  // An epoll descriptor that becomes readable when service() has work: a connection, a
  // departure, a wake-up from a subscriber, or a silent connection's deadline. Borrowed.
  int fd() const noexcept;

  PublisherStats stats() const noexcept;
  // How many subscribers still hold `chunk` (as of the last housekeeping); 0 once every one gave
  // it back and it returned to the pool. Lets a caller tie an acknowledgement to the moment the
  // last reader is done with a message. 0 for an index out of range.
  std::uint32_t holders(std::uint32_t chunk) const noexcept;
  // The payload pool, e.g. to check that every chunk came back (pool().stats().free).
  const BufferPool& pool() const noexcept;
  // Descriptor slots per subscriber: the most messages one publish_n() takes.
  std::size_t queue_depth() const noexcept;
  // How publish() orders itself against a subscriber going to sleep: "membarrier" (no fence per
  // message; a sleeping subscriber forces one) or "seq_cst (why membarrier is not used)".
  std::string_view fences() const noexcept;

 private:
  explicit Publisher(std::unique_ptr<detail::PublisherState> state) noexcept;
  // A wait ends at options.timeout from its start or at `until`, whichever comes first; kNoDeadline
  // (the largest time point) is none. A plain time point, passed in a register: a
  // std::optional built on the stack and copied whole made the copy wait, behind the payload's
  // stores, for the payload's cache line (a store-forwarding stall on every publish).
  static constexpr std::chrono::steady_clock::time_point kNoDeadline =
      std::chrono::steady_clock::time_point::max();
  Result<ChunkLoan> loan_before(std::chrono::steady_clock::time_point until);
  Result<std::size_t> loan_n_before(std::span<ChunkLoan> loans,
                                    std::chrono::steady_clock::time_point until);
  Result<std::uint64_t> publish_n_before(std::span<ChunkLoan> loans,
                                         std::span<const std::size_t> lengths,
                                         std::chrono::steady_clock::time_point until);
  std::unique_ptr<detail::PublisherState> state_;
};

}  // namespace zc
