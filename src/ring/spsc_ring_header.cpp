// Copying a ring header out of shared memory once, and validating the copy as untrusted input.
#include <cstdio>
#include <string>

#include "zcopy/ring/spsc_ring.hpp"

namespace zc {
namespace {

std::string hex(std::uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(value));
  return text;
}

// One read that the compiler may neither repeat nor drop: a plain read of memory another
// process writes could legally be done twice (the optimiser assumes nobody else writes it).
template <class T>
T read_once(const T& field) noexcept {
  return *static_cast<const volatile T*>(&field);
}

}  // namespace

SpscRingHeaderCopy copy_spsc_ring_header(const SpscRingHeader& shared) noexcept {
  SpscRingHeaderCopy copy;
  copy.magic = read_once(shared.magic);
  copy.layout_version = read_once(shared.layout_version);
  copy.element_size = read_once(shared.element_size);
  copy.capacity = read_once(shared.capacity);
  copy.slots_offset = read_once(shared.slots_offset);
  // SYNC POINT (pairs with the release store of tail when the ring was laid out, and with the
  // release stores of head and tail in publish() and release()): the slots below head were
  // written, and those below tail read, before we take over either role.
  copy.head = shared.head.load(std::memory_order_acquire);
  copy.tail = shared.tail.load(std::memory_order_acquire);
  return copy;
}

Result<void> validate_spsc_ring_header(const SpscRingHeaderCopy& header, std::size_t memory_bytes,
                                       std::size_t element_size) {
  const auto corrupt = [](std::string detail) {
    return fail(Errc::corrupt, "ring header", std::move(detail));
  };
  if (header.magic != SpscRingHeader::kMagic)
    return corrupt("bad magic " + hex(header.magic) + " (not a zcopy ring)");
  if (header.layout_version != SpscRingHeader::kLayoutVersion)
    return corrupt("layout version " + std::to_string(header.layout_version) +
                   ", this build reads " + std::to_string(SpscRingHeader::kLayoutVersion));
  if (header.element_size != element_size)
    return corrupt("element size " + std::to_string(header.element_size) + ", expected " +
                   std::to_string(element_size));
  const std::uint64_t capacity = header.capacity;
  if (capacity < 2 || (capacity & (capacity - 1)) != 0 || capacity > (std::uint64_t{1} << 40))
    return corrupt("capacity " + std::to_string(capacity) + " is not a power of two in [2, 2^40]");
  if (header.slots_offset < sizeof(SpscRingHeader) || header.slots_offset % kCacheLine != 0)
    return corrupt("slots offset " + std::to_string(header.slots_offset) + " is misplaced");
  // capacity <= 2^40 and element_size < 2^32, so the product fits in 64 bits.
  const std::uint64_t slot_bytes = capacity * element_size;
  if (header.slots_offset > memory_bytes || slot_bytes > memory_bytes - header.slots_offset)
    return corrupt("ring of " + std::to_string(capacity) + " slots needs " +
                   std::to_string(header.slots_offset + slot_bytes) + " bytes, memory has " +
                   std::to_string(memory_bytes));
  if (header.head - header.tail > capacity)
    return corrupt("head " + std::to_string(header.head) + " and tail " +
                   std::to_string(header.tail) + " are more than the capacity apart");
  return {};
}

}  // namespace zc
