// Frame: a handle that owns one UMEM frame and returns it when dropped.
#include "zcopy/xdp/frame.hpp"

#include <utility>

#include "umem_state.hpp"

namespace zc::xdp {

Frame::Frame(Frame&& other) noexcept
    : umem_(std::exchange(other.umem_, nullptr)),
      address_(std::exchange(other.address_, 0)),
      size_(std::exchange(other.size_, 0)) {}

Frame& Frame::operator=(Frame&& other) noexcept {
  if (this != &other) {
    reset();
    umem_ = std::exchange(other.umem_, nullptr);
    address_ = std::exchange(other.address_, 0);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

std::span<std::byte> Frame::data() const noexcept {
  if (umem_ == nullptr) return {};
  return {umem_->bytes_at(address_), size_};
}

std::uint32_t Frame::capacity() const noexcept {
  if (umem_ == nullptr) return 0;
  return umem_->frame_size - static_cast<std::uint32_t>(address_ & (umem_->frame_size - 1));
}

bool Frame::resize(std::uint32_t size) noexcept {
  if (size > capacity()) return false;
  size_ = size;
  return true;
}

std::uint32_t Frame::index() const noexcept {
  return umem_ == nullptr ? 0 : umem_->frame_of(address_);
}

void Frame::reset() noexcept {
  detail::UmemState* umem = std::exchange(umem_, nullptr);
  if (umem == nullptr) return;
  umem->held.fetch_sub(1, std::memory_order_relaxed);
  // A handle owns its frame, so this cannot fail unless the bookkeeping is broken: count it.
  if (!umem->give_back(umem->frame_of(address_), detail::owner_word(detail::Place::application))) {
    umem->bad_returns.fetch_add(1, std::memory_order_relaxed);
  }
  address_ = 0;
  size_ = 0;
}

}  // namespace zc::xdp
