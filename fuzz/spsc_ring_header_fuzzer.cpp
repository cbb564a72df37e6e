// Feeds arbitrary bytes to SpscRing::attach() as if they were a peer's ring memory: the header is
// copied once and validated. It must never crash, and a ring it accepts must keep every read and
// write inside those bytes (AddressSanitizer watches) however it is then used.
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <span>

#include "zcopy/ring/spsc_ring.hpp"

namespace {

// An element wider than a word and not a power of two in size.
struct Triple {
  std::uint64_t words[3];
};

template <class T>
void attach_and_use(std::span<std::byte> memory) {
  auto ring = zc::SpscRing<T>::attach(memory);
  if (!ring) {
    if (ring.error().code() != zc::Errc::corrupt || ring.error().message().empty()) std::abort();
    return;
  }
  const std::size_t capacity = ring->capacity();
  if (!std::has_single_bit(capacity) || zc::SpscRing<T>::bytes_for(capacity) > memory.size()) {
    std::abort();
  }
  // Both roles, past full and past empty: the indices came from the input too.
  const std::size_t rounds = std::min<std::size_t>(capacity, 256) + 2;
  T value{};
  for (std::size_t i = 0; i < rounds; ++i) (void)ring->try_pop(value);
  for (std::size_t i = 0; i < rounds; ++i) (void)ring->try_push(value);
  for (std::size_t i = 0; i < rounds; ++i) (void)ring->try_pop(value);
  (void)ring->size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A ring lives at the start of 64-byte aligned memory (a mapping, in practice), sized exactly
  // as the input so that any overrun is caught.
  constexpr std::align_val_t kAlign{zc::kCacheLine};
  auto* memory = static_cast<std::byte*>(::operator new(size == 0 ? 1 : size, kAlign));
  if (size != 0) std::memcpy(memory, data, size);
  const std::span<std::byte> bytes(memory, size);
  attach_and_use<std::uint32_t>(bytes);
  attach_and_use<std::uint64_t>(bytes);
  attach_and_use<Triple>(bytes);
  ::operator delete(memory, kAlign);
  return 0;
}
