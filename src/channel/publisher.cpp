// The publisher's data path: loaning chunks, publishing descriptors, taking chunks back.
//
// Sleeping. Neither side makes a system call per message while the other is awake.
//
// A subscriber that finds its queue empty stores subscriber_sleeping = 1 and then loads head
// again before it sleeps on its eventfd; publish() stores head and then loads
// subscriber_sleeping, signalling the eventfd only if it is set (and clearing it). This is
// Dekker's pattern: each side stores, then loads what the other stored, and it needs a full
// barrier between the store and the load on both sides, or a store buffer lets both loads miss
// both stores (the subscriber sleeps past a message nobody signals).
//
// Remote fences (ChannelHeader::remote_fences = 1, the usual case). A full barrier per message
// (a locked instruction on x86) costs the publisher more than the rest of a small publish, while
// a subscriber goes to sleep rarely. So the publisher stores head with release and loads the flag
// relaxed, with only a compiler barrier between them, and the subscriber pays for both: after
// storing the flag it calls membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED), then loads head. The
// publisher's process registered for that at Publisher::create; the call returns only once every
// running thread of every registered process has executed a full memory barrier (an IPI), and a
// thread that was not running passes one at its next context switch. Take the point P where that
// barrier falls on the publishing thread:
//   - P before the publisher's store of head: the subscriber's store of the flag came before the
//     membarrier call (a system call entry is a full barrier), so before P, so the publisher's
//     load after P sees the flag and signals;
//   - P after the store (between it and the load, or after both: the compiler barrier keeps them
//     in that order): the store of head is globally visible before P, P before membarrier
//     returns, and the subscriber's load of head after that sees it, so it does not sleep.
// Either way no wake-up is lost; the subscriber pays a few microseconds once per sleep.
//
// Otherwise (no membarrier, seccomp refuses it, or a ThreadSanitizer build, which cannot model a
// barrier forced from another process) all four accesses are seq_cst, so they fall in one total
// order: if the subscriber's load missed the new head, the publisher's load comes after the
// subscriber's store and sees the flag. A subscriber whose membarrier call fails although the
// publisher registered cannot rely on either and sleeps at most kUnfencedSleepMs at a time.
//
// The publisher sleeps (for queue space or a returned chunk) the same way with
// publisher_waiting, but what it waits for is a subscriber's tail or release ring, whose stores
// are not seq_cst. So both sides use read-modify-writes on the flag instead, and nothing else
// ever writes it (the publisher clears it with an exchange too), so each read-modify-write
// synchronises with every earlier one. The publisher stores wake_tail and wake_returned (what it
// needs from this subscriber) and then exchange(1)s the flag before its last look; a subscriber,
// after every take and every return, reads the flag with a read-modify-write and, when it is set
// and the wish is met (or the subscriber has nothing left to read), exchange(0)s it and signals
// if it was still 1. The read-modify-writes are ordered on the flag: either the subscriber's
// comes second, sees 1 and the wish with it, or the publisher's comes second, synchronises with
// it, and its last look sees the progress. A wish the subscriber has already passed is met at
// its next take or return, and a subscriber that runs dry wakes the publisher whatever it asked
// (its next take finds nothing, and every return after that wakes), so a wish never leaves the
// publisher asleep while the subscriber could still help; one that stops short of it while
// holding samples is covered by bounded sleeps (kHysteresisRecheckMs).
//
// With remote fences this way too (kSubscriberFenced: the subscriber registered for membarrier
// and said so in its hello), the subscriber's read-modify-write, two locked instructions per
// message, becomes a plain acquire load after a compiler barrier, and the publisher, after its
// exchange(1) and before its last look, calls membarrier: the argument above with the roles
// swapped. If the barrier falls on the subscriber's thread before its store of tail (or of its
// release ring), its load after the barrier sees the flag, which was set before the call; if
// after the store, the store is visible to the last look. Once per sleep of the publisher.
//
// Why wishes: a subscriber that woke the publisher at every message it took or returned made the
// two trade places once per message whenever the processes outnumber the CPUs (a fan-out to
// eight subscribers on two CPUs fell to 0.07x the rate of one). Asked for half a queue, or half
// the chunks it holds, it wakes the publisher once per half queue.
#include "zcopy/channel/publisher.hpp"

#include <fcntl.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <span>
#include <string>

#include "publisher_state.hpp"
#include "remote_fence.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc {

namespace {

std::unexpected<Error> bad_options(const std::string& detail) {
  return fail(Errc::invalid_argument, "Publisher::create", detail);
}

// A read-only descriptor of the pool. The seal comes first: after it nobody can make a new
// writable mapping, while ours (made when the pool was created) stays writable.
Result<Fd> share_pool_read_only(const BufferPool& pool) {
  const int fd = pool.region().fd();
  auto sealed = sys_call({"fcntl(F_ADD_SEALS, F_SEAL_FUTURE_WRITE)", fd},
                         [&] { return ::fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE); });
  if (!sealed) return std::unexpected(sealed.error());
  return Fd::open("/proc/self/fd/" + std::to_string(fd), O_RDONLY);
}

// When a wait that begins now ends: options.timeout from now, or `until` if that is sooner (the
// largest time point: no deadline of the caller's).
Clock::time_point wait_deadline(const detail::PublisherState& s, Clock::time_point until) {
  return std::min(Clock::now() + s.options.timeout, until);
}

std::string waited_text(const detail::PublisherState& s, Clock::time_point until) {
  if (until != Clock::time_point::max()) return "before the caller's deadline";
  return "within " + std::to_string(s.options.timeout.count()) + " ms";
}

}  // namespace

Result<Publisher> Publisher::create(std::string_view name, const ChannelOptions& options) {
  if (!valid_channel_name(name)) {
    return bad_options("channel name '" + std::string(name) + "' must be 1-80 of [A-Za-z0-9._-]");
  }
  if (options.chunk_size == 0 || options.chunk_size > (std::size_t{1} << 30)) {
    return bad_options("chunk size must be in [1, 1 GiB]");
  }
  if (options.chunk_count == 0 || options.chunk_count > (std::size_t{1} << 24)) {
    return bad_options("chunk count must be in [1, 2^24]");
  }
  if (options.queue_depth < 2 || options.queue_depth > 65536 ||
      (options.queue_depth & (options.queue_depth - 1)) != 0) {
    return bad_options("queue depth must be a power of two in [2, 65536]");
  }
  if (options.max_subscribers == 0 || options.max_subscribers > 4096) {
    return bad_options("max subscribers must be in [1, 4096]");
  }
  if (options.max_pending == 0 || options.max_pending > 65536) {
    return bad_options("max pending connections must be in [1, 65536]");
  }
  if (options.hello_timeout <= std::chrono::milliseconds::zero()) {
    return bad_options("the hello timeout must be positive");
  }
  const std::string op = "Publisher::create(" + std::string(name) + ")";
  auto pool = BufferPool::create(
      options.chunk_size, options.chunk_count,
      {.name = "zcopy-channel-" + std::string(name), .pin = options.pin, .exclusive = true});
  if (!pool) return std::unexpected(std::move(pool.error()).with_context(op));
  auto listener = UnixListener::listen(channel_address(name), 64);
  if (!listener) return std::unexpected(std::move(listener.error()).with_context(op));
  auto state = std::make_unique<detail::PublisherState>(std::string(name), options,
                                                        std::move(*pool), std::move(*listener));
  state->geometry = channel_geometry(static_cast<std::uint32_t>(options.chunk_size),
                                     static_cast<std::uint32_t>(options.chunk_count),
                                     static_cast<std::uint32_t>(options.queue_depth));
  state->geometry.backpressure = options.backpressure == Backpressure::drop_oldest ? 1 : 0;
  // Publishing without a fence per message needs subscribers able to force one on us.
  auto fences = detail::register_for_remote_fences();
  state->geometry.remote_fences = fences ? kPublisherFenced : 0;
  state->fences = fences ? "membarrier" : "seq_cst (" + fences.error().message() + ")";
  state->links.resize(options.max_subscribers);
  state->refs.assign(options.chunk_count, 0);
  state->freed.reserve(options.chunk_count);
  // Non-blocking: the listener is drained until EAGAIN (see publisher_pending.cpp).
  const int listener_fd = state->listener.fd();
  auto nonblocking = sys_call({"fcntl(F_SETFL, O_NONBLOCK)", listener_fd}, [&] {
    return ::fcntl(listener_fd, F_SETFL, ::fcntl(listener_fd, F_GETFL) | O_NONBLOCK);
  });
  if (!nonblocking) return std::unexpected(std::move(nonblocking.error()).with_context(op));
  auto readonly = share_pool_read_only(state->pool);
  auto epoll = make_epoll();
  auto wake = make_eventfd();
  auto timer = make_timerfd();
  auto reserve = Fd::open("/dev/null", O_RDONLY);
  for (Error* error : {readonly ? nullptr : &readonly.error(), epoll ? nullptr : &epoll.error(),
                       wake ? nullptr : &wake.error(), timer ? nullptr : &timer.error(),
                       reserve ? nullptr : &reserve.error()}) {
    if (error != nullptr) return std::unexpected(std::move(*error).with_context(op));
  }
  state->pool_readonly = std::move(*readonly);
  state->epoll = std::move(*epoll);
  state->wake = std::move(*wake);
  state->timer = std::move(*timer);
  state->reserve = std::move(*reserve);
  using detail::EventKind;
  for (auto [fd, kind] : {std::pair{state->listener.fd(), EventKind::listener},
                          std::pair{state->wake.get(), EventKind::wake},
                          std::pair{state->timer.get(), EventKind::timer}}) {
    auto added = epoll_add(state->epoll.get(), fd, EPOLLIN, detail::event_data(kind, 0, 0));
    if (!added) return std::unexpected(std::move(added.error()).with_context(op));
  }
  return Publisher(std::move(state));
}

Publisher::Publisher(std::unique_ptr<detail::PublisherState> state) noexcept
    : state_(std::move(state)) {}
Publisher::Publisher(Publisher&&) noexcept = default;
Publisher& Publisher::operator=(Publisher&&) noexcept = default;
Publisher::~Publisher() = default;

void Publisher::service() {
  detail::PublisherState& s = *state_;
  s.handle_events(0);
  s.drain_all_releases();
  // publish() rereads a tail only when the queue looks full; here every tail is checked, so an
  // impossible one is caught within a service interval even on a queue that never fills.
  for (std::size_t i = 0; i < s.links_end; ++i) {
    if (s.links[i]) (void)s.refresh_tail(i);
  }
  s.last_service = coarse_now();
}

Result<ChunkLoan> Publisher::loan() {
  return loan_before(kNoDeadline);
}

Result<ChunkLoan> Publisher::loan_before(Clock::time_point until) {
  detail::PublisherState& s = *state_;
  // Admissions and departures every millisecond or so (at the next timer tick: the coarse clock
  // costs a quarter of a precise one on every loan); returns (shared memory only) always.
  if (coarse_now() - s.last_service > std::chrono::milliseconds(1)) service();
  // The deadline is taken only once we have to wait: a clock read per message is a tenth of the
  // cost of a small one.
  std::optional<Clock::time_point> deadline;
  for (;;) {
    // Returned chunks wait in the release rings until the pool runs dry: reading a ring the
    // subscriber has just written costs a cache miss, which a free chunk in the pool does not.
    // A run of one: a dry pool says so with a count of 0, where BufferPool::loan() builds an
    // error (a string, an allocation) that this path, dry every chunk_count messages, discards.
    ChunkLoan loan;
    auto got = s.pool.loan_n(std::span(&loan, 1));
    if (got && *got == 0) {
      s.drain_all_releases();
      got = s.pool.loan_n(std::span(&loan, 1));
    }
    if (!got) return std::unexpected(std::move(got.error()));
    if (*got == 1) {
      // The chunk's first line is in the cache of the subscriber that read it last: ask for it
      // now, so the caller's first write to it does not wait for the transfer in line.
      detail::prefetch_for_write(loan.bytes().data(), s.write_prefetch);
      return loan;
    }
    if (s.options.backpressure == Backpressure::drop_oldest) {
      // Take back the oldest entry of the longest queue; repeat until a chunk frees.
      std::size_t longest = s.links.size();
      std::uint64_t longest_depth = 0;
      for (std::size_t i = 0; i < s.links.size(); ++i) {
        if (!s.links[i] || !s.refresh_tail(i)) continue;
        const std::uint64_t depth = s.links[i]->head - s.links[i]->tail;
        if (depth > longest_depth) {
          longest = i;
          longest_depth = depth;
        }
      }
      if (longest < s.links.size() && s.drop_oldest(longest)) continue;
    }
    // Woken per returned chunk, a publisher that outnumbers the CPUs with its subscribers would
    // trade places with one of them per message. Subscribers return chunks mostly in the order
    // they were sent, so the oldest half of the chunks held are free once no subscriber holds
    // more than half of what the one that holds most does: only the ones holding more are asked
    // to wake us, once they are down to that (or have nothing left to read).
    std::uint64_t most = 0;
    auto chunk_came_back = [&] {
      s.drain_all_releases();
      most = 0;
      for (const auto& link : s.links) {
        if (link) most = std::max(most, link->holding);
      }
      return s.pool.stats().free > 0;
    };
    if (s.spin_until(chunk_came_back)) continue;
    if (!deadline) deadline = wait_deadline(s, until);
    const bool freed =
        s.wait_until(chunk_came_back, *deadline,
                     [&](const detail::SubscriberLink& link) -> std::optional<detail::WakeWhen> {
                       if (link.holding == 0 || link.holding <= most / 2) return std::nullopt;
                       return detail::WakeWhen{.returned = link.returned + link.holding - most / 2};
                     });
    if (!freed) {
      return fail(Errc::timeout, "Publisher::loan",
                  "no chunk came back " + waited_text(s, until) + " (all " +
                      std::to_string(s.geometry.chunk_count) + " held by subscribers)");
    }
  }
}

Result<std::size_t> Publisher::loan_n(std::span<ChunkLoan> loans) {
  return loan_n_before(loans, kNoDeadline);
}

Result<std::size_t> Publisher::loan_n(std::span<ChunkLoan> loans, Clock::time_point until) {
  return loan_n_before(loans, until);
}

Result<std::size_t> Publisher::loan_n_before(std::span<ChunkLoan> loans, Clock::time_point until) {
  if (loans.empty()) return 0;
  detail::PublisherState& s = *state_;
  if (coarse_now() - s.last_service > std::chrono::milliseconds(1)) service();
  // The whole run in one move of the pool's free list; returned chunks are drained only when it
  // falls short, as in loan_before().
  auto got = s.pool.loan_n(loans);
  if (got && *got < loans.size()) {
    s.drain_all_releases();
    auto more = s.pool.loan_n(loans.subspan(*got));
    if (more) *got += *more;
  }
  if (!got) return std::unexpected(std::move(got.error()));
  std::size_t filled = *got;
  if (filled == 0) {
    // Nothing free: wait (or drop, or time out) for one chunk as loan() does, then take what
    // else came back with it.
    auto first = loan_before(until);
    if (!first) return std::unexpected(std::move(first.error()));
    loans[0] = std::move(*first);
    auto more = s.pool.loan_n(loans.subspan(1));
    filled = 1 + (more ? *more : 0);
  }
  // Their first lines are in the cache of the subscriber that read them last: ask for them now,
  // so the caller's writes do not wait for the transfers one by one (loan_before() did the
  // first one's when it waited).
  for (std::size_t k = 0; k < filled; ++k) {
    detail::prefetch_for_write(loans[k].bytes().data(), s.write_prefetch);
  }
  return filled;
}

Result<std::uint64_t> Publisher::publish(ChunkLoan&& loan, std::size_t length) {
  return publish_n(std::span<ChunkLoan>(&loan, 1), std::span<const std::size_t>(&length, 1));
}

Result<std::uint64_t> Publisher::publish_n(std::span<ChunkLoan> loans,
                                           std::span<const std::size_t> lengths) {
  return publish_n_before(loans, lengths, kNoDeadline);
}

Result<std::uint64_t> Publisher::publish_n(std::span<ChunkLoan> loans,
                                           std::span<const std::size_t> lengths,
                                           Clock::time_point until) {
  return publish_n_before(loans, lengths, until);
}

Result<std::uint64_t> Publisher::publish_n_before(std::span<ChunkLoan> loans,
                                                  std::span<const std::size_t> lengths,
                                                  Clock::time_point until) {
  detail::PublisherState& s = *state_;
  const char* op = "Publisher::publish";
  if (s.closed) return fail(Errc::closed, op, "the channel was closed");
  const std::uint64_t depth = s.geometry.queue_depth;
  const std::size_t n = loans.size();
  if (n == 0 || n > depth || lengths.size() != n) {
    return fail(Errc::invalid_argument, op,
                "needs 1 to queue depth (" + std::to_string(depth) + ") loans, one length each");
  }
  for (std::size_t k = 0; k < n; ++k) {
    if (!loans[k].valid() || lengths[k] > s.geometry.chunk_size) {
      return fail(Errc::invalid_argument, op,
                  "needs a loan from this channel and a length <= chunk size");
    }
    auto chunk_bytes = s.pool.chunk(loans[k].index());
    if (!chunk_bytes || chunk_bytes->data() != loans[k].bytes().data()) {
      return fail(Errc::invalid_argument, op, "the loan comes from another pool");
    }
  }
  // Every queue must have room for all n before any is written, so a timeout delivers to nobody.
  // The tail we last saw is never ahead of the real one, so room by it is room indeed; only a
  // queue that looks too full is looked at again (a cache miss on the line the subscriber
  // writes).
  auto all_have_room = [&] {
    bool room = true;
    for (std::size_t i = 0; i < s.links_end; ++i) {
      auto fits = [&] { return s.links[i]->head - s.links[i]->tail <= depth - n; };
      if (!s.links[i] || fits()) continue;
      if (!s.refresh_tail(i) || fits()) continue;
      if (s.options.backpressure == Backpressure::drop_oldest) {
        while (s.links[i] && !fits() && s.drop_oldest(i)) {
        }
      }
      if (!s.links[i] || fits()) continue;  // cut off while we looked, or room made
      room = false;
    }
    return room;
  };
  // Only the subscribers whose queue lacks room are asked to wake us, and only once it is at most
  // half full (or as empty as we need, if that is emptier), not at every message they take.
  auto ask_for_room = [&](const detail::SubscriberLink& link) -> std::optional<detail::WakeWhen> {
    if (link.head - link.tail <= depth - n) return std::nullopt;
    return detail::WakeWhen{.tail = link.head - std::min(depth - n, depth / 2)};
  };
  // The clock is read (for the deadline) only when some queue is full.
  if (!all_have_room() && !s.spin_until(all_have_room) &&
      !s.wait_until(all_have_room, wait_deadline(s, until), ask_for_room)) {
    return fail(Errc::timeout, op, "a subscriber's queue stayed full " + waited_text(s, until));
  }

  const std::uint64_t first = s.counters.published;
  s.counters.published += n;
  const bool remote_fences = (s.geometry.remote_fences & kPublisherFenced) != 0;
  // Every chunk of the batch goes to every subscriber: its count of holders is set once, not
  // counted up per subscriber and down for our own reference. Nothing below removes a
  // subscriber, so the number stays true while the descriptors are written.
  const auto holders = static_cast<std::uint32_t>(s.subscribers);
  for (std::size_t k = 0; k < n; ++k) s.refs[loans[k].index()] = holders;
  for (std::size_t i = 0; i < s.links_end; ++i) {
    const std::unique_ptr<detail::SubscriberLink>& link = s.links[i];
    if (!link) continue;
    // The slots' lines were last read by the subscriber: their transfers overlap this way. Not
    // the first slot's: its store follows at once, and a subscriber polling that line would
    // only take it back in between (one transfer more for a single message).
    for (std::size_t k = 1; k < n; ++k) {
      detail::prefetch_for_write(&link->slots[(link->head + k) & (depth - 1)], s.write_prefetch);
    }
    for (std::size_t k = 0; k < n; ++k) {
      const std::uint32_t chunk = loans[k].index();
      DescriptorSlot& slot = link->slots[link->head & (depth - 1)];
      // Relaxed: the release store of filled publishes them.
      slot.sequence.store(first + k, std::memory_order_relaxed);
      slot.chunk_and_length.store(pack_descriptor(chunk, static_cast<std::uint32_t>(lengths[k])),
                                  std::memory_order_relaxed);
      link->sent[link->head & (depth - 1)] = chunk;
      link->held[chunk] = 1;
      ++link->head;
      // SYNC POINT (pairs with the acquire load of filled in the subscriber's take()): the
      // payload and the two words above are visible to a subscriber that sees this position. A
      // plain store on x86: the fence below is paid once per batch, not per message.
      slot.filled.store(link->head, std::memory_order_release);
    }
    link->holding += n;
    // SYNC POINT (pairs with the acquire load of head in the subscriber's take()): every slot
    // filled above, and its payload, is visible before the new head. With the load of
    // subscriber_sleeping after it, one side of the "Sleeping" handshake: a plain store and a
    // plain load when the subscriber forces the fence on us (remote fences), else both seq_cst
    // (a locked instruction). One per batch.
    std::uint32_t sleeping = 0;
    if (remote_fences) {
      link->ctl->head.store(link->head, std::memory_order_release);
      // A compiler barrier only: the load must follow the store in the instruction stream, so
      // that a barrier forced on this thread by a subscriber's membarrier falls before the
      // store, after the load, or between them, never with the two swapped.
      std::atomic_signal_fence(std::memory_order_seq_cst);
      sleeping = link->ctl->subscriber_sleeping.load(std::memory_order_relaxed);
    } else {
      link->ctl->head.store(link->head, std::memory_order_seq_cst);
      sleeping = link->ctl->subscriber_sleeping.load(std::memory_order_seq_cst);
    }
    if (sleeping != 0 &&
        link->ctl->subscriber_sleeping.exchange(0, std::memory_order_relaxed) != 0) {
      signal_eventfd(link->wake.get());
    }
  }
  if (holders == 0) {
    // Nobody to send to: the chunks go straight back, first loaned first.
    std::uint32_t unsent[64];
    for (std::size_t done = 0; done < n;) {
      const std::size_t run = std::min<std::size_t>(std::size(unsent), n - done);
      for (std::size_t k = 0; k < run; ++k) unsent[k] = loans[done + k].release();
      (void)s.pool.give_back_n(std::span<const std::uint32_t>(unsent, run));
      done += run;
    }
  } else {
    for (std::size_t k = 0; k < n; ++k) (void)loans[k].release();
    // A pool this publish left dry would be drained by the next loan, on the way to the next
    // message. Now, its misses on the release rings overlap with the subscribers reading what
    // was just sent (in a ping-pong this is the wait for the answer), so the next loan finds a
    // chunk. It drains no more often: only when the pool is dry, as loan() would.
    if (s.pool.stats().free == 0) s.drain_all_releases();
    // Likewise a queue this publish filled as far as our copy of its tail knows: the next
    // publish would look at the tail first (a miss on the subscriber's line), so look now.
    for (std::size_t i = 0; i < s.links_end; ++i) {
      if (s.links[i] && s.links[i]->head - s.links[i]->tail > depth - 1) (void)s.refresh_tail(i);
    }
  }
  return first;
}

void Publisher::close() {
  state_->close();
}

Result<void> Publisher::wait_for_subscribers(std::size_t count, std::chrono::milliseconds timeout) {
  detail::PublisherState& s = *state_;
  const bool enough = s.wait_until([&] { return s.subscribers >= count; }, Clock::now() + timeout,
                                   detail::ask_nobody);
  if (!enough) {
    return fail(Errc::timeout, "Publisher::wait_for_subscribers",
                std::to_string(count) + " subscribers did not connect within " +
                    std::to_string(timeout.count()) + " ms");
  }
  return {};
}

int Publisher::fd() const noexcept {
  return state_->epoll.get();
}

PublisherStats Publisher::stats() const noexcept {
  PublisherStats stats = state_->counters;
  stats.subscribers = state_->subscribers;
  return stats;
}

std::uint32_t Publisher::holders(std::uint32_t chunk) const noexcept {
  return chunk < state_->refs.size() ? state_->refs[chunk] : 0;
}

std::string_view Publisher::fences() const noexcept {
  return state_->fences;
}

const BufferPool& Publisher::pool() const noexcept {
  return state_->pool;
}

std::size_t Publisher::queue_depth() const noexcept {
  return state_->geometry.queue_depth;
}

}  // namespace zc
