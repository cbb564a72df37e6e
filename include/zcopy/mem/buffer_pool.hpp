// zcopy/mem/buffer_pool.hpp: fixed-size chunks of shared memory, loaned and returned lock-free
// by any number of threads and processes.
//
// A BufferPool carves one shared Region into chunk_count chunks of chunk_size bytes. A chunk is
// named by its index (or its byte offset in the region), never by a pointer, so an index can
// travel to another process that attached the same pool and be used or returned there.
//
//   auto pool = zc::BufferPool::create(4096, 256, {.name = "frames"});
//   zc::Result<zc::ChunkLoan> loan = pool->loan();        // Errc::exhausted when none is free
//   std::memcpy(loan->bytes().data(), frame, n);          // write in place
//   std::uint32_t index = loan->release();                // ownership leaves this object...
//   send_index_to_peer(index);                            // ...the peer reads pool->chunk(index)
//                                                         // and calls give_back(index)
//   // Peer process, which received pool->share() over a Unix socket:
//   auto peer = zc::BufferPool::attach(std::move(fd));
//
// Layout (see src/mem/pool_header.hpp): a validated header (magic, layout version, geometry), the
// free-list head and counters, a "next" link and a state word per chunk, then the chunks, each
// aligned to 64 bytes, or to 4096 when chunk_size >= 4096 (io_uring fixed buffers, AF_XDP UMEM).
//
// Loaning. The free chunks form a Treiber stack whose 64-bit head packs a 32-bit ABA tag with the
// index of the top chunk. Each chunk also has a state word (free or loaned) that give_back()
// flips with a compare-and-swap first, so a double or bogus return is refused (Errc::rejected)
// and counted, and can never push the same chunk twice and corrupt the stack. loan_n() and
// give_back_n() take or return a run of chunks with one move of the head, not one per chunk.
//
// Synchronization. Every member function may be called from any thread of any process that has
// the pool mapped (one thread at a time of the creating process for an exclusive pool, see
// PoolOptions::exclusive); none blocks. What a process writes into a chunk before give_back() is
// visible to whoever loans that chunk next: the return publishes it (release on the head's CAS) and
// the loan takes it in (acquire). Handing an index to a peer directly (release() then a pipe,
// socket or ring) needs that channel's own ordering, which every syscall and zcopy ring provides.
// stats() is a snapshot of relaxed counters, exact only when the pool is quiet.
//
// Trust. attach() validates the header, and every index read from shared memory is range-checked
// before use, so a corrupt or hostile peer can make loans fail (Errc::corrupt) but cannot make
// this process touch memory outside the region. It can of course still scribble on chunks.
//
// Not handled here: a process that dies while holding loans leaks those chunks until the pool is
// recreated. Reclaiming them needs to know who held what, which belongs to the channel layer
// built on top of this pool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "zcopy/core/error.hpp"
#include "zcopy/core/fd.hpp"
#include "zcopy/mem/region.hpp"

namespace zc {

struct PoolOptions {
  // The memfd's name, shown in /proc/<pid>/maps.
  std::string name = "zcopy-pool";
  // Lock and pre-fault the whole region (Region::pin).
  bool pin = false;
  // Back the region with 2 MiB transparent huge pages (RegionOptions::huge_pages):
  // Errc::capability_missing when shmem THP is disabled.
  bool huge_pages = false;
  // Only this process loans and returns chunks, one call at a time (e.g. a channel's publisher,
  // whose readers map the pool read-only and hand indices back to it): loans and returns then
  // use plain loads and stores instead of six locked read-modify-writes per chunk, and double or
  // bogus returns are still refused. Attaching such a pool writable elsewhere breaks it.
  bool exclusive = false;
};

struct PoolAttachOptions {
  bool pin = false;
};

// Where everything sits in a pool's region, in bytes from its start. What validate_pool_header()
// vouches for.
struct PoolGeometry {
  std::uint32_t chunk_size = 0;
  std::uint32_t chunk_count = 0;
  std::uint32_t chunk_align = 0;
  std::uint32_t chunk_stride = 0;  // from one chunk's start to the next
  std::uint64_t control_offset = 0;
  std::uint64_t next_offset = 0;   // chunk_count free-list links
  std::uint64_t state_offset = 0;  // chunk_count state words
  std::uint64_t chunk_offset = 0;  // chunk 0
  std::uint64_t total_bytes = 0;   // end of the last chunk

  std::uint64_t offset_of(std::uint32_t index) const noexcept {
    return chunk_offset + std::uint64_t{index} * chunk_stride;
  }
};

// Checks the pool header at the start of `region` (magic, layout version, sizes, every offset
// against the layout those sizes imply and against region.size()) without trusting any field.
// Errc::corrupt with one precise line otherwise, e.g.
//   "pool header: chunk area [4096, 1052672) exceeds region size 65536".
Result<PoolGeometry> validate_pool_header(std::span<const std::byte> region);

struct PoolStats {
  std::uint32_t chunk_count = 0;
  std::uint32_t chunk_size = 0;
  std::uint32_t loaned = 0;
  std::uint32_t free = 0;
  std::uint32_t high_water = 0;  // most chunks ever on loan at once
  std::uint64_t rejected_returns = 0;
};

namespace detail {
struct PoolView;
}

// One loaned chunk. Gives it back when destroyed, unless release() handed its ownership on.
// Move-only; must not outlive the pool it came from (moving the pool is fine).
class ChunkLoan {
 public:
  ChunkLoan() noexcept = default;
  ChunkLoan(ChunkLoan&& other) noexcept;
  ChunkLoan& operator=(ChunkLoan&& other) noexcept;
  ChunkLoan(const ChunkLoan&) = delete;
  ChunkLoan& operator=(const ChunkLoan&) = delete;
  ~ChunkLoan();

  bool valid() const noexcept { return view_ != nullptr; }
  explicit operator bool() const noexcept { return valid(); }
  std::uint32_t index() const noexcept { return index_; }
  // Byte offset of the chunk in the pool's region: the same in every process.
  std::uint64_t offset() const noexcept;
  std::span<std::byte> bytes() const noexcept;

  // Ownership leaves this object: the chunk stays on loan until someone, in this or another
  // process, calls BufferPool::give_back(index).
  [[nodiscard]] std::uint32_t release() noexcept;
  // Returns the chunk now instead of at destruction.
  Result<void> give_back();

 private:
  friend class BufferPool;
  ChunkLoan(detail::PoolView* view, std::uint32_t index) noexcept : view_(view), index_(index) {}

  detail::PoolView* view_ = nullptr;  // borrowed from the BufferPool
  std::uint32_t index_ = 0;
};

class BufferPool {
 public:
  // A new pool in a fresh sealed memfd region. chunk_size in [1, 1 GiB], chunk_count in
  // [1, 2^32 - 2]; Errc::invalid_argument outside.
  static Result<BufferPool> create(std::size_t chunk_size, std::size_t chunk_count,
                                   const PoolOptions& options = {});
  // Maps a pool that another process created and shared, after validating its header.
  static Result<BufferPool> attach(Fd fd, const PoolAttachOptions& options = {});

  BufferPool(BufferPool&&) noexcept;
  BufferPool& operator=(BufferPool&&) noexcept;
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;
  ~BufferPool();

  // A descriptor for another process to attach() with (read-write: loaning writes the shared
  // atomics).
  Result<Fd> share() const;

  // A free chunk, or Errc::exhausted when there is none right now. Errc::corrupt when the shared
  // free list has been damaged.
  Result<ChunkLoan> loan();
  // Up to loans.size() free chunks in one move of the free-list head (one compare-and-swap, not
  // one per chunk): how many were loaned, into loans[0..n). 0 when none is free; Errc::corrupt as
  // loan(). Slots beyond n are left as they were.
  Result<std::size_t> loan_n(std::span<ChunkLoan> loans);
  // Returns a chunk loaned here or in another process. Errc::rejected (and counted) when the
  // index is out of range or the chunk is not on loan: a double or bogus return.
  Result<void> give_back(std::uint32_t index);
  // Returns several chunks in one move of the free-list head, indices[0] on top (loaned first):
  // as give_back() of each, last index first. Each bogus or double return is refused and counted
  // as by give_back() and the others are still returned; how many were returned.
  std::size_t give_back_n(std::span<const std::uint32_t> indices);

  // The bytes of chunk `index` (e.g. received from a peer). Errc::rejected when out of range.
  Result<std::span<std::byte>> chunk(std::uint32_t index) const;

  PoolStats stats() const noexcept;
  const PoolGeometry& geometry() const noexcept;
  // The whole mapped region, e.g. to register the chunk area with io_uring.
  const Region& region() const noexcept;

 private:
  explicit BufferPool(std::unique_ptr<detail::PoolView> view) noexcept;

  // On the heap so that its address, which loans hold, survives moves of the BufferPool.
  std::unique_ptr<detail::PoolView> view_;
};

}  // namespace zc
