// zcopy/net/io_chain.hpp: a message as a chain of fragments over buffers the caller owns or
// shares, edited without copying and sent with one sendmsg or SENDMSG_ZC.
//
// Editing re-stitches fragments instead of moving bytes. To forward a packet with a secret span
// redacted, the chain becomes the original's head, a small new buffer and the original's tail:
//
//   auto packet = std::make_shared<std::vector<std::byte>>(...);   // shared: kept alive by owners
//   zc::net::IoChain chain;
//   chain.append(std::span(*packet), packet);
//   chain.replace(secret_offset, secret_length, mask, mask_owner);
//   zc::net::send_chain(sender, std::move(chain));   // owners released when the send completes
//
// A fragment's owner (any shared_ptr) keeps its buffer alive; the chain, and a send that used
// it, hold the owners until the send completes. A fragment without owner is borrowed: the caller
// keeps it alive and unchanged until then.
//
// Segment limit: a device or the kernel takes at most so many fragments per message (IOV_MAX,
// or 17 for some NICs). coalesce() merges the smallest neighbouring fragments into bounce buffers
// until the chain fits, and counts the bytes so copied.
#pragma once

#include <sys/uio.h>

#include <climits>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "zcopy/core/error.hpp"

namespace zc::net {

class ZeroCopySender;

class IoChain {
 public:
  struct Fragment {
    std::span<const std::byte> bytes;
    std::shared_ptr<const void> owner;  // empty: borrowed
    bool bounce = false;                // a coalescing buffer this chain made
  };

  void append(std::span<const std::byte> bytes, std::shared_ptr<const void> owner = {});

  // Removes [offset, offset + length). Errc::invalid_argument when past the end.
  Result<void> cut(std::size_t offset, std::size_t length);
  // Inserts `bytes` before byte `offset` (offset == size() appends).
  Result<void> insert(std::size_t offset, std::span<const std::byte> bytes,
                      std::shared_ptr<const void> owner = {});
  // cut(offset, length) then insert(offset, bytes): a redaction or a rewrite in place.
  Result<void> replace(std::size_t offset, std::size_t length, std::span<const std::byte> bytes,
                       std::shared_ptr<const void> owner = {});

  // Merges the smallest neighbouring fragments into bounce buffers until at most
  // `max_fragments` remain; returns the bytes copied by this call (also added to copied_bytes()).
  Result<std::size_t> coalesce(std::size_t max_fragments);

  std::size_t size() const noexcept { return size_; }
  std::size_t fragment_count() const noexcept { return fragments_.size(); }
  const std::vector<Fragment>& fragments() const noexcept { return fragments_; }
  std::uint64_t copied_bytes() const noexcept { return copied_bytes_; }
  std::vector<iovec> iovecs() const;
  // The message's bytes in one buffer (for checks and tests; sending never flattens).
  std::vector<std::byte> flatten() const;

 private:
  // Splits the fragment holding byte `offset` so that a fragment starts there; returns its index.
  std::size_t split_at(std::size_t offset);

  std::vector<Fragment> fragments_;
  std::size_t size_ = 0;
  std::uint64_t copied_bytes_ = 0;
};

// Sends the chain as one message, coalescing it first to `max_fragments`. The chain (and every
// owner in it) is kept until the send completes, then released. Returns the send's ticket.
Result<std::uint64_t> send_chain(ZeroCopySender& sender, IoChain chain,
                                 std::size_t max_fragments = IOV_MAX);

}  // namespace zc::net
