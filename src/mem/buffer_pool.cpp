// BufferPool: the lock-free loan/return protocol over a pool's shared region.
#include "zcopy/mem/buffer_pool.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <new>
#include <utility>

#include "mem/pool_header.hpp"

namespace zc {

using pool_layout::kChunkFree;
using pool_layout::kChunkLoaned;
using pool_layout::kNoChunk;
using pool_layout::PoolControl;

namespace detail {

// This process's view of one pool: the mapping and where each part of the layout sits in it.
// The pointers are local to this process and derived from validated offsets.
struct PoolView {
  explicit PoolView(Region mapped) noexcept : region(std::move(mapped)) {}

  Region region;
  PoolGeometry geometry;
  bool exclusive = false;  // PoolOptions::exclusive: plain loads and stores, no read-modify-write
  PoolControl* control = nullptr;
  std::atomic<std::uint32_t>* next = nullptr;
  std::atomic<std::uint32_t>* state = nullptr;
  std::byte* chunks = nullptr;

  std::span<std::byte> chunk(std::uint32_t index) const noexcept {
    return {chunks + std::size_t{index} * geometry.chunk_stride, geometry.chunk_size};
  }
  // Takes up to `want` chunks off the free list into out[0..n) in one move of its head: n, 0
  // when it is empty.
  Result<std::uint32_t> pop_n(std::uint32_t* out, std::uint32_t want);
  // Pushes the chain first -> ... -> last (already linked through `next`) in one move.
  void push_chain(std::uint32_t first, std::uint32_t last) noexcept;
  Result<void> mark_loaned(std::uint32_t index);
  void count_loans(std::uint32_t n) noexcept;
  Result<void> mark_free(std::uint32_t index);
  void uncount_loans(std::uint32_t n) noexcept;
  Result<void> give_back(std::uint32_t index);
};

Result<std::uint32_t> PoolView::pop_n(std::uint32_t* out, std::uint32_t want) {
  // SYNC POINT: acquire pairs with the release CAS in push_chain(): every chunk's contents and
  // `next` link written before the push that put it on the list are visible to us once we read
  // that head or a later one (every later change of the head is a read-modify-write, so it
  // continues the push's release sequence), however deep in the list the chunk sits.
  std::uint64_t head = control->free_head.load(std::memory_order_acquire);
  for (;;) {
    std::uint32_t index = pool_layout::head_index(head);
    std::uint32_t taken = 0;
    bool torn = false;
    // Walks `want` links down from the head. A link may be stale if another loaner moved the head
    // meanwhile; the tag in the head then differs and the CAS below fails, so a stale link is
    // never installed: every push and pop bumps the tag, and a chunk's link changes only when it
    // is pushed, so an unchanged head means the links walked are the list's. (ABA would need the
    // 32-bit tag to wrap, 2^32 pushes and pops, between our load and our CAS.)
    while (taken < want && index != kNoChunk) {
      if (index >= geometry.chunk_count) {
        torn = true;
        break;
      }
      out[taken++] = index;
      index = next[index].load(std::memory_order_relaxed);
    }
    if (torn) {
      // A stale link of a shared pool, or a corrupt list: corrupt only if the head is unchanged.
      const std::uint64_t again = control->free_head.load(std::memory_order_acquire);
      if (exclusive || again == head) {
        return fail(Errc::corrupt, "BufferPool::loan",
                    "free list names chunk " + std::to_string(index) + " of " +
                        std::to_string(geometry.chunk_count) + ": pool memory is corrupt");
      }
      head = again;
      continue;
    }
    if (taken == 0) return 0;
    const std::uint64_t replacement =
        pool_layout::pack_head(pool_layout::head_tag(head) + 1, index);
    if (exclusive) {
      // Nobody else moves the head: a plain store replaces the compare-and-swap.
      control->free_head.store(replacement, std::memory_order_relaxed);
      return taken;
    }
    // SYNC POINT: acquire on success and on failure, as for the load above; the head we retry
    // with may have been published by another push_chain().
    if (control->free_head.compare_exchange_weak(head, replacement, std::memory_order_acquire,
                                                 std::memory_order_acquire)) {
      return taken;
    }
  }
}

void PoolView::push_chain(std::uint32_t first, std::uint32_t last) noexcept {
  std::uint64_t head = control->free_head.load(std::memory_order_relaxed);
  if (exclusive) {
    next[last].store(pool_layout::head_index(head), std::memory_order_relaxed);
    // Release, as the CAS below: a later loan on another thread (handed over by its own
    // synchronisation) sees what was written into the chunks.
    control->free_head.store(pool_layout::pack_head(pool_layout::head_tag(head) + 1, first),
                             std::memory_order_release);
    return;
  }
  for (;;) {
    next[last].store(pool_layout::head_index(head), std::memory_order_relaxed);
    const std::uint64_t replacement =
        pool_layout::pack_head(pool_layout::head_tag(head) + 1, first);
    // SYNC POINT: release pairs with the acquire in pop_n(): everything written to the chunks
    // before they were given back, and every `next` link of the chain (the inner ones stored by
    // our caller before this call, the last one just now), happen-before the next loan of any.
    if (control->free_head.compare_exchange_weak(head, replacement, std::memory_order_release,
                                                 std::memory_order_relaxed)) {
      return;
    }
  }
}

Result<void> PoolView::mark_loaned(std::uint32_t index) {
  // Relaxed: as in mark_free(), the CAS sees the latest state whatever the ordering. It can only
  // fail if a peer scribbled on the state array; the chunk then stays out of the free list.
  std::uint32_t expected = kChunkFree;
  const bool flipped = exclusive ? state[index].load(std::memory_order_relaxed) == kChunkFree
                                 : state[index].compare_exchange_strong(expected, kChunkLoaned,
                                                                        std::memory_order_relaxed);
  if (!flipped) {
    return fail(Errc::corrupt, "BufferPool::loan",
                "chunk " + std::to_string(index) +
                    " was on the free list but not free: pool memory is corrupt");
  }
  // One caller at a time: a plain store where shared pools need the read-modify-write.
  if (exclusive) state[index].store(kChunkLoaned, std::memory_order_relaxed);
  return {};
}

void PoolView::count_loans(std::uint32_t n) noexcept {
  // Relaxed: statistics only, once per loan or run of loans.
  if (exclusive) {
    const std::uint32_t now = control->loaned.load(std::memory_order_relaxed) + n;
    control->loaned.store(now, std::memory_order_relaxed);
    if (now > control->high_water.load(std::memory_order_relaxed)) {
      control->high_water.store(now, std::memory_order_relaxed);
    }
    return;
  }
  const std::uint32_t now = control->loaned.fetch_add(n, std::memory_order_relaxed) + n;
  std::uint32_t peak = control->high_water.load(std::memory_order_relaxed);
  while (now > peak &&
         !control->high_water.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
}

namespace {
// Built only on the error paths: give_back() is on every chunk's hot path.
std::string give_back_op(std::uint32_t index) {
  return "BufferPool::give_back(chunk " + std::to_string(index) + ")";
}
}  // namespace

Result<void> PoolView::mark_free(std::uint32_t index) {
  if (index >= geometry.chunk_count) {
    control->rejected_returns.fetch_add(1, std::memory_order_relaxed);
    return fail(
        Errc::rejected, give_back_op(index),
        "index out of range: the pool has " + std::to_string(geometry.chunk_count) + " chunks");
  }
  // Only one of several racing returns of the same chunk can win this CAS, so a chunk is never
  // pushed twice. Relaxed is enough: a CAS always sees the latest state, and what the chunk
  // holds is published by push_chain(), which is sequenced after this.
  std::uint32_t expected = kChunkLoaned;
  bool flipped = false;
  if (exclusive) {
    // One caller at a time: a load and a store do what the compare-and-swap does.
    expected = state[index].load(std::memory_order_relaxed);
    flipped = expected == kChunkLoaned;
    if (flipped) state[index].store(kChunkFree, std::memory_order_relaxed);
  } else {
    flipped = state[index].compare_exchange_strong(expected, kChunkFree, std::memory_order_relaxed);
  }
  if (!flipped) {
    control->rejected_returns.fetch_add(1, std::memory_order_relaxed);
    if (expected == kChunkFree) {
      return fail(Errc::rejected, give_back_op(index),
                  "chunk is not on loan (returned twice, or never loaned)");
    }
    char state_text[16];
    std::snprintf(state_text, sizeof state_text, "0x%08" PRIx32, expected);
    return fail(Errc::corrupt, give_back_op(index),
                std::string("chunk state ") + state_text +
                    " is neither free nor loaned: pool memory is corrupt");
  }
  return {};
}

void PoolView::uncount_loans(std::uint32_t n) noexcept {
  // Relaxed: statistics. Our callers uncount before the push, so that `loaned` never counts a
  // chunk twice: otherwise a loaner could take the chunk and count it before we uncount it, and
  // high_water could exceed the pool.
  if (exclusive) {
    control->loaned.store(control->loaned.load(std::memory_order_relaxed) - n,
                          std::memory_order_relaxed);
  } else {
    control->loaned.fetch_sub(n, std::memory_order_relaxed);
  }
}

Result<void> PoolView::give_back(std::uint32_t index) {
  if (auto freed = mark_free(index); !freed) return freed;
  uncount_loans(1);
  push_chain(index, index);
  return {};
}

}  // namespace detail

namespace {

std::unique_ptr<detail::PoolView> make_view(Region region, const PoolGeometry& geometry) {
  std::byte* base = region.data();
  auto view = std::make_unique<detail::PoolView>(std::move(region));
  view->geometry = geometry;
  // The shared objects were constructed by the pool's creator (possibly another process); here we
  // only name them at the validated offsets. launder: no object was created through these bytes
  // in this process.
  view->control = std::launder(reinterpret_cast<PoolControl*>(base + geometry.control_offset));
  view->next =
      std::launder(reinterpret_cast<std::atomic<std::uint32_t>*>(base + geometry.next_offset));
  view->state =
      std::launder(reinterpret_cast<std::atomic<std::uint32_t>*>(base + geometry.state_offset));
  view->chunks = base + geometry.chunk_offset;
  return view;
}

}  // namespace

Result<BufferPool> BufferPool::create(std::size_t chunk_size, std::size_t chunk_count,
                                      const PoolOptions& options) {
  const std::string op = "BufferPool::create(" + std::to_string(chunk_count) + " x " +
                         std::to_string(chunk_size) + " bytes)";
  auto geometry = pool_layout::compute_pool_geometry(chunk_size, chunk_count);
  if (!geometry) return std::unexpected(std::move(geometry.error()).with_context(op));
  const PoolGeometry& g = *geometry;

  auto region = Region::create_shared(g.total_bytes,
                                      {.name = options.name, .huge_pages = options.huge_pages});
  if (!region) return std::unexpected(std::move(region.error()).with_context(op));
  std::byte* base = region->data();

  // Constructed here, before any other process can have the fd: share() happens after create()
  // returns, and passing the fd orders these writes before the peer's first access.
  const pool_layout::PoolHeader header = pool_layout::make_header(g);
  std::memcpy(base, &header, sizeof header);
  auto* control = new (base + g.control_offset) PoolControl{};
  control->free_head.store(pool_layout::pack_head(0, 0), std::memory_order_relaxed);
  control->loaned.store(0, std::memory_order_relaxed);
  control->high_water.store(0, std::memory_order_relaxed);
  control->rejected_returns.store(0, std::memory_order_relaxed);
  auto* next = reinterpret_cast<std::atomic<std::uint32_t>*>(base + g.next_offset);
  auto* state = reinterpret_cast<std::atomic<std::uint32_t>*>(base + g.state_offset);
  for (std::uint32_t i = 0; i < g.chunk_count; ++i) {
    new (&next[i]) std::atomic<std::uint32_t>(i + 1 < g.chunk_count ? i + 1 : kNoChunk);
    new (&state[i]) std::atomic<std::uint32_t>(kChunkFree);
  }

  if (options.pin) {
    if (auto pinned = region->pin(); !pinned) {
      return std::unexpected(std::move(pinned.error()).with_context(op));
    }
  }
  auto view = make_view(std::move(*region), g);
  view->exclusive = options.exclusive;
  return BufferPool(std::move(view));
}

Result<BufferPool> BufferPool::attach(Fd fd, const PoolAttachOptions& options) {
  const std::string op = "BufferPool::attach(fd " + std::to_string(fd.get()) + ")";
  auto region = Region::attach(std::move(fd), Access::read_write);
  if (!region) return std::unexpected(std::move(region.error()).with_context(op));
  auto geometry = validate_pool_header(region->bytes());
  if (!geometry) return std::unexpected(std::move(geometry.error()).with_context(op));
  if (options.pin) {
    if (auto pinned = region->pin(); !pinned) {
      return std::unexpected(std::move(pinned.error()).with_context(op));
    }
  }
  return BufferPool(make_view(std::move(*region), *geometry));
}

BufferPool::BufferPool(std::unique_ptr<detail::PoolView> view) noexcept : view_(std::move(view)) {}
BufferPool::BufferPool(BufferPool&&) noexcept = default;
BufferPool& BufferPool::operator=(BufferPool&&) noexcept = default;
BufferPool::~BufferPool() = default;

Result<Fd> BufferPool::share() const {
  return view_->region.share(Access::read_write);
}

Result<ChunkLoan> BufferPool::loan() {
  std::uint32_t index = 0;
  auto popped = view_->pop_n(&index, 1);
  if (!popped) return std::unexpected(popped.error());
  if (*popped == 0) return fail(Errc::exhausted, "BufferPool::loan", "no free chunk");
  if (auto marked = view_->mark_loaned(index); !marked) return std::unexpected(marked.error());
  view_->count_loans(1);
  return ChunkLoan(view_.get(), index);
}

Result<std::size_t> BufferPool::loan_n(std::span<ChunkLoan> loans) {
  constexpr std::size_t kRun = 64;  // indices on the stack at a time
  std::size_t filled = 0;
  while (filled < loans.size()) {
    std::uint32_t indices[kRun];
    const auto want = static_cast<std::uint32_t>(std::min(kRun, loans.size() - filled));
    auto popped = view_->pop_n(indices, want);
    if (!popped) {
      if (filled > 0) break;  // what we hold is good; the next call reports the corruption
      return std::unexpected(popped.error());
    }
    std::uint32_t counted = 0;
    for (std::uint32_t k = 0; k < *popped; ++k) {
      // A chunk that is not free stays out of the free list, as in loan().
      if (!view_->mark_loaned(indices[k])) continue;
      loans[filled++] = ChunkLoan(view_.get(), indices[k]);
      ++counted;
    }
    view_->count_loans(counted);
    if (*popped < want) break;
  }
  return filled;
}

Result<void> BufferPool::give_back(std::uint32_t index) {
  return view_->give_back(index);
}

std::size_t BufferPool::give_back_n(std::span<const std::uint32_t> indices) {
  // The accepted ones are linked in order through `next` (relaxed: the push's release CAS
  // publishes the links with the chunks), then pushed as one chain.
  std::uint32_t first = kNoChunk;
  std::uint32_t last = kNoChunk;
  std::uint32_t accepted = 0;
  for (const std::uint32_t index : indices) {
    if (!view_->mark_free(index)) continue;
    if (first == kNoChunk) {
      first = index;
    } else {
      view_->next[last].store(index, std::memory_order_relaxed);
    }
    last = index;
    ++accepted;
  }
  if (accepted == 0) return 0;
  view_->uncount_loans(accepted);
  view_->push_chain(first, last);
  return accepted;
}

Result<std::span<std::byte>> BufferPool::chunk(std::uint32_t index) const {
  if (index >= view_->geometry.chunk_count) {
    return fail(Errc::rejected, "BufferPool::chunk(" + std::to_string(index) + ")",
                "index out of range: the pool has " + std::to_string(view_->geometry.chunk_count) +
                    " chunks");
  }
  return view_->chunk(index);
}

PoolStats BufferPool::stats() const noexcept {
  const PoolControl& control = *view_->control;
  PoolStats s;
  s.chunk_count = view_->geometry.chunk_count;
  s.chunk_size = view_->geometry.chunk_size;
  s.loaned = control.loaned.load(std::memory_order_relaxed);
  // A transiently wrapped counter (a racing bogus return that happened to hit a loaned chunk)
  // must not show as billions on loan.
  if (s.loaned > s.chunk_count) s.loaned = s.chunk_count;
  s.free = s.chunk_count - s.loaned;
  s.high_water = control.high_water.load(std::memory_order_relaxed);
  s.rejected_returns = control.rejected_returns.load(std::memory_order_relaxed);
  return s;
}

const PoolGeometry& BufferPool::geometry() const noexcept {
  return view_->geometry;
}
const Region& BufferPool::region() const noexcept {
  return view_->region;
}

// ChunkLoan

ChunkLoan::ChunkLoan(ChunkLoan&& other) noexcept
    : view_(std::exchange(other.view_, nullptr)), index_(other.index_) {}

ChunkLoan& ChunkLoan::operator=(ChunkLoan&& other) noexcept {
  if (this != &other) {
    if (view_ != nullptr) (void)view_->give_back(index_);
    view_ = std::exchange(other.view_, nullptr);
    index_ = other.index_;
  }
  return *this;
}

ChunkLoan::~ChunkLoan() {
  // Cannot fail for a chunk we hold unless a peer corrupted the pool; nothing to do about it here.
  if (view_ != nullptr) (void)view_->give_back(index_);
}

std::uint64_t ChunkLoan::offset() const noexcept {
  return view_ != nullptr ? view_->geometry.offset_of(index_) : 0;
}

std::span<std::byte> ChunkLoan::bytes() const noexcept {
  return view_ != nullptr ? view_->chunk(index_) : std::span<std::byte>{};
}

std::uint32_t ChunkLoan::release() noexcept {
  view_ = nullptr;
  return index_;
}

Result<void> ChunkLoan::give_back() {
  if (view_ == nullptr) {
    return fail(Errc::invalid_argument, "ChunkLoan::give_back", "the loan holds no chunk");
  }
  return std::exchange(view_, nullptr)->give_back(index_);
}

}  // namespace zc
