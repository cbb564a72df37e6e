// Umem: a pinned BufferPool's chunk area registered with the kernel as AF_XDP packet memory.
#include "zcopy/xdp/umem.hpp"

#include <unistd.h>

#include <bit>
#include <cstdio>
#include <utility>

#include "umem_state.hpp"
#include "zcopy/core/units.hpp"

namespace zc::xdp {
namespace detail {

UmemState::~UmemState() {
  // Every socket is gone by now (the Umem's contract), so libxdp's count is zero.
  if (handle != nullptr) xsk_umem__delete(handle);
}

bool UmemState::move(std::uint32_t frame, std::uint32_t from, std::uint32_t to) noexcept {
  if (frame >= frame_count) return false;
  // acq_rel: a frame's owner word changes hands between the socket threads and whichever thread
  // drops a Frame; each transition sees the one before it. The bytes themselves are ordered by
  // the rings and by the pool.
  return owners[frame].compare_exchange_strong(from, to, std::memory_order_acq_rel);
}

std::optional<std::uint32_t> UmemState::take_free(std::uint32_t to) noexcept {
  auto loan = pool.loan();
  if (!loan) return std::nullopt;
  const std::uint32_t frame = loan->release();
  if (!move(frame, owner_word(Place::pool), to)) {
    // The pool handed out a frame that is not free: it was returned while still elsewhere.
    bad_returns.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  return frame;
}

bool UmemState::give_back(std::uint32_t frame, std::uint32_t from) noexcept {
  if (!move(frame, from, owner_word(Place::pool))) return false;
  // SYNC POINT: BufferPool::give_back releases, the next loan acquires: whatever was written to
  // the frame here is complete before another socket hands it to the kernel.
  if (!pool.give_back(frame)) {
    bad_returns.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

}  // namespace detail

namespace {

bool power_of_two_in(std::uint32_t value, std::uint32_t low, std::uint32_t high) {
  return std::has_single_bit(value) && value >= low && value <= high;
}

Result<void> check_options(const UmemOptions& options) {
  const std::string op = "xdp::Umem";
  if (options.frame_count == 0 || options.frame_count > (1u << 22)) {
    return fail(Errc::invalid_argument, op,
                "frame count " + std::to_string(options.frame_count) + " outside [1, 4194304]");
  }
  for (const auto& [size, what] : {std::pair{options.fill_ring_size, "fill ring size"},
                                   {options.completion_ring_size, "completion ring size"}}) {
    if (!power_of_two_in(size, 1, 1u << 20)) {
      return fail(Errc::invalid_argument, op,
                  std::string(what) + " " + std::to_string(size) +
                      " is not a power of two in [1, 1048576]");
    }
  }
  return {};
}

std::string errno_hint(int err) {
  switch (err) {
    case EPERM:
      return "AF_XDP needs CAP_NET_RAW";
    case ENOMEM:
    case ENOBUFS:
      return "the kernel could not pin the memory (RLIMIT_MEMLOCK without CAP_IPC_LOCK?)";
    case EAFNOSUPPORT:
      return "the kernel lacks CONFIG_XDP_SOCKETS";
    default:
      return {};
  }
}

}  // namespace

Result<Umem> Umem::create(const UmemOptions& options) {
  if (auto ok = check_options(options); !ok) return std::unexpected(ok.error());
  std::string pages;
  Result<BufferPool> pool = fail(Errc::capability_missing, "", "");
  if (options.huge_pages != HugePages::never) {
    pool = BufferPool::create(kFrameSize, options.frame_count,
                              {.name = options.name, .pin = true, .huge_pages = true});
    if (pool) {
      pages = "2 MiB huge pages";
    } else if (options.huge_pages == HugePages::required ||
               pool.error().code() != Errc::capability_missing) {
      return std::unexpected(std::move(pool.error()).with_context("xdp::Umem::create"));
    } else {
      pages = "4 KiB pages (huge pages: " + pool.error().detail() + ")";
    }
  }
  if (!pool) {
    pool = BufferPool::create(kFrameSize, options.frame_count, {.name = options.name, .pin = true});
    if (!pool) return std::unexpected(std::move(pool.error()).with_context("xdp::Umem::create"));
    if (pages.empty()) pages = "4 KiB pages";
  }
  auto umem = adopt(std::move(*pool), options);
  if (umem) umem->state_->pages = pages;
  return umem;
}

Result<Umem> Umem::adopt(BufferPool pool, const UmemOptions& options) {
  const std::string op = "xdp::Umem::adopt";
  if (auto ok = check_options(options); !ok) return std::unexpected(ok.error());
  const PoolGeometry& g = pool.geometry();
  const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  if (!power_of_two_in(g.chunk_stride, 2048, static_cast<std::uint32_t>(page))) {
    return fail(Errc::invalid_argument, op,
                "chunk stride " + std::to_string(g.chunk_stride) +
                    " is not a power of two between 2048 and the page size");
  }
  if (g.chunk_offset % page != 0) {
    return fail(Errc::invalid_argument, op, "the pool's chunk area is not page-aligned");
  }
  if (!pool.region().pinned()) {
    return fail(Errc::invalid_argument, op, "the pool is not pinned (PoolOptions::pin)");
  }
  if (pool.stats().loaned != 0) {
    return fail(Errc::invalid_argument, op,
                std::to_string(pool.stats().loaned) + " chunks of the pool are on loan");
  }
  auto chunk0 = pool.chunk(0);
  if (!chunk0) return std::unexpected(chunk0.error());

  auto state = std::make_unique<detail::UmemState>(std::move(pool));
  state->area = chunk0->data();
  state->frame_count = g.chunk_count;
  state->frame_size = g.chunk_stride;
  state->frame_shift = static_cast<std::uint32_t>(std::countr_zero(g.chunk_stride));
  state->area_bytes = std::uint64_t{g.chunk_count} * g.chunk_stride;
  state->options = options;
  state->options.frame_count = g.chunk_count;
  state->pages = state->pool.region().huge_pages() ? "2 MiB huge pages" : "4 KiB pages";
  state->owners = std::make_unique<std::atomic<std::uint32_t>[]>(g.chunk_count);
  for (std::uint32_t i = 0; i < g.chunk_count; ++i) {
    state->owners[i].store(detail::owner_word(detail::Place::pool), std::memory_order_relaxed);
  }

  xsk_umem_config config{};
  config.fill_size = options.fill_ring_size;
  config.comp_size = options.completion_ring_size;
  config.frame_size = g.chunk_stride;
  config.frame_headroom = 0;
  config.flags = 0;
  const int rc = xsk_umem__create(&state->handle, state->area, state->area_bytes,
                                  &state->first_fill, &state->first_completion, &config);
  if (rc != 0) {
    state->handle = nullptr;
    return fail_errno(-rc,
                      "xsk_umem__create(" + format_bytes(state->area_bytes) + ", XDP_UMEM_REG)",
                      errno_hint(-rc));
  }
  return Umem(std::move(state));
}

Umem::Umem(std::unique_ptr<detail::UmemState> state) noexcept : state_(std::move(state)) {}
Umem::Umem(Umem&&) noexcept = default;
Umem& Umem::operator=(Umem&&) noexcept = default;
Umem::~Umem() = default;

Result<Frame> Umem::allocate() {
  const auto frame = state_->take_free(detail::owner_word(detail::Place::application));
  if (!frame) {
    return fail(Errc::exhausted, "xdp::Umem::allocate",
                "all " + std::to_string(state_->frame_count) + " frames are in use");
  }
  state_->held.fetch_add(1, std::memory_order_relaxed);
  return Frame(state_.get(), state_->base_of(*frame), 0);
}

UmemStatistics Umem::statistics() const noexcept {
  UmemStatistics s;
  s.frame_count = state_->frame_count;
  for (std::uint32_t i = 0; i < state_->frame_count; ++i) {
    switch (detail::place_of(state_->owners[i].load(std::memory_order_relaxed))) {
      case detail::Place::pool:
        ++s.free;
        break;
      case detail::Place::fill:
        ++s.in_fill;
        break;
      case detail::Place::application:
        ++s.held;
        break;
      case detail::Place::tx:
        ++s.in_tx;
        break;
    }
  }
  s.bad_returns = state_->bad_returns.load(std::memory_order_relaxed);
  return s;
}

std::uint32_t Umem::frame_count() const noexcept {
  return state_->frame_count;
}

std::uint32_t Umem::frame_size() const noexcept {
  return state_->frame_size;
}

bool Umem::huge_pages() const noexcept {
  return state_->pool.region().huge_pages();
}

std::string Umem::describe() const {
  return format_bytes(state_->area_bytes) + " UMEM: " + std::to_string(state_->frame_count) +
         " frames of " + format_bytes(state_->frame_size) + ", pinned, " + state_->pages;
}

}  // namespace zc::xdp
