// zcopy/xdp/frame.hpp: one packet buffer of a UMEM, owned by the application while this handle
// lives.
//
// A Frame comes from Socket::receive() (a packet the kernel wrote) or Umem::allocate() (an empty
// frame to write a packet into). It is move-only: exactly one handle owns a frame. Dropping the
// handle returns the frame to the UMEM's free frames, from which each socket's fill ring is
// topped up; Socket::send() takes it instead and puts it on a tx ring without copying a byte,
// and it comes back to the free frames through the completion ring once the kernel has sent it.
//
//   std::array<zc::xdp::Frame, 64> batch;
//   const std::size_t n = socket.receive(batch);
//   for (std::size_t i = 0; i < n; ++i) inspect(batch[i].data());   // the packet, in the UMEM
//   // leaving scope drops the frames: back to the fill ring at the next refill
//
// Synchronization: a Frame may be moved to, used on and dropped by any thread; dropping is
// lock-free. The bytes are the application's alone while it holds the handle.
//
// Lifetime: a Frame must not outlive the Umem it came from.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace zc::xdp {

namespace detail {
struct UmemState;
}

class Frame {
 public:
  Frame() noexcept = default;
  Frame(Frame&& other) noexcept;
  Frame& operator=(Frame&& other) noexcept;
  Frame(const Frame&) = delete;
  Frame& operator=(const Frame&) = delete;
  ~Frame() { reset(); }

  bool valid() const noexcept { return umem_ != nullptr; }
  explicit operator bool() const noexcept { return valid(); }

  // The packet: size() bytes from where the kernel (or the writer) put it in the frame.
  std::span<std::byte> data() const noexcept;
  std::uint32_t size() const noexcept { return size_; }
  // How far the packet may grow: the bytes from data() to the end of the frame.
  std::uint32_t capacity() const noexcept;
  // Sets the packet length for sending; false (and nothing changes) beyond capacity().
  [[nodiscard]] bool resize(std::uint32_t size) noexcept;

  // The packet's address in the UMEM (the offset the rings carry) and the frame's index.
  std::uint64_t address() const noexcept { return address_; }
  std::uint32_t index() const noexcept;

  // Returns the frame to the UMEM now instead of at destruction.
  void reset() noexcept;

 private:
  friend class Socket;
  friend class Umem;
  Frame(detail::UmemState* umem, std::uint64_t address, std::uint32_t size) noexcept
      : umem_(umem), address_(address), size_(size) {}
  // Ownership leaves the handle (to a tx ring); the frame is not returned.
  void forget() noexcept { umem_ = nullptr; }

  detail::UmemState* umem_ = nullptr;  // borrowed from the Umem
  std::uint64_t address_ = 0;
  std::uint32_t size_ = 0;
};

}  // namespace zc::xdp
