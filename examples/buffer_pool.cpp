// buffer_pool: loan a chunk of shared memory, fill it in place, hand it on by index, give it back.
//
// Chunks are named by index, so the index (not a pointer) is what travels to a consumer, possibly
// in another process that attached the same pool with BufferPool::attach(pool.share()).
#include "zcopy/mem/buffer_pool.hpp"

#include <cstdio>
#include <cstring>
#include <vector>

namespace {

int fail_with(const zc::Error& error) {
  std::fprintf(stderr, "buffer_pool: %s\n", error.message().c_str());
  return 1;
}

void print_stats(const char* when, const zc::PoolStats& s) {
  std::printf("%-22s loaned %u, free %u, high water %u, rejected returns %llu\n", when, s.loaned,
              s.free, s.high_water, static_cast<unsigned long long>(s.rejected_returns));
}

}  // namespace

int main() {
  // 8 chunks of 4 KiB, each page-aligned, in one sealed memfd region.
  auto pool = zc::BufferPool::create(4096, 8, {.name = "buffer-pool-example"});
  if (!pool) return fail_with(pool.error());

  // A producer loans a chunk and writes into it in place.
  auto loan = pool->loan();
  if (!loan) return fail_with(loan.error());
  std::snprintf(reinterpret_cast<char*>(loan->bytes().data()), loan->bytes().size(),
                "frame written into chunk %u", loan->index());
  print_stats("after one loan:", pool->stats());

  // Ownership leaves the ChunkLoan as a bare index, as it would to a consumer process.
  const std::uint32_t index = loan->release();
  auto chunk = pool->chunk(index);
  if (!chunk) return fail_with(chunk.error());
  std::printf("consumer reads chunk %u at offset %llu: \"%s\"\n", index,
              static_cast<unsigned long long>(pool->geometry().offset_of(index)),
              reinterpret_cast<const char*>(chunk->data()));
  if (auto returned = pool->give_back(index); !returned) return fail_with(returned.error());

  // Returning it twice is refused, and counted.
  if (auto again = pool->give_back(index); !again) {
    std::printf("second return refused: %s\n", again.error().message().c_str());
  }

  // Loan everything: the pool reports exhaustion instead of blocking.
  std::vector<zc::ChunkLoan> all;
  for (auto next = pool->loan(); next; next = pool->loan()) all.push_back(std::move(*next));
  auto none = pool->loan();
  std::printf("with %zu chunks out: %s\n", all.size(),
              none ? "unexpected loan" : none.error().message().c_str());
  print_stats("at exhaustion:", pool->stats());

  all.clear();  // each ChunkLoan gives its chunk back
  const zc::PoolStats end = pool->stats();
  print_stats("after returning all:", end);
  return end.loaned == 0 && end.high_water == 8 && end.rejected_returns == 1 ? 0 : 1;
}
