// Fragment chains, edited by re-stitching (see io_chain.hpp).
#include "zcopy/net/io_chain.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "zcopy/net/zerocopy_sender.hpp"

namespace zc::net {

void IoChain::append(std::span<const std::byte> bytes, std::shared_ptr<const void> owner) {
  if (bytes.empty()) return;
  fragments_.push_back(Fragment{bytes, std::move(owner)});
  size_ += bytes.size();
}

std::size_t IoChain::split_at(std::size_t offset) {
  std::size_t at = 0;
  for (std::size_t i = 0; i < fragments_.size(); ++i) {
    const std::size_t len = fragments_[i].bytes.size();
    if (offset == at) return i;
    if (offset < at + len) {
      // Both halves keep the owner: the buffer lives while either is in use.
      Fragment tail = fragments_[i];
      tail.bytes = tail.bytes.subspan(offset - at);
      fragments_[i].bytes = fragments_[i].bytes.first(offset - at);
      fragments_.insert(fragments_.begin() + static_cast<std::ptrdiff_t>(i) + 1, std::move(tail));
      return i + 1;
    }
    at += len;
  }
  return fragments_.size();
}

Result<void> IoChain::cut(std::size_t offset, std::size_t length) {
  if (offset > size_ || length > size_ - offset) {
    return fail(Errc::invalid_argument, "IoChain::cut",
                "[" + std::to_string(offset) + ", +" + std::to_string(length) +
                    ") is past the end of a " + std::to_string(size_) + "-byte chain");
  }
  if (length == 0) return {};
  const std::size_t first = split_at(offset);
  const std::size_t last = split_at(offset + length);
  fragments_.erase(fragments_.begin() + static_cast<std::ptrdiff_t>(first),
                   fragments_.begin() + static_cast<std::ptrdiff_t>(last));
  size_ -= length;
  return {};
}

Result<void> IoChain::insert(std::size_t offset, std::span<const std::byte> bytes,
                             std::shared_ptr<const void> owner) {
  if (offset > size_) {
    return fail(Errc::invalid_argument, "IoChain::insert",
                "offset " + std::to_string(offset) + " is past the end of a " +
                    std::to_string(size_) + "-byte chain");
  }
  if (bytes.empty()) return {};
  const std::size_t at = split_at(offset);
  fragments_.insert(fragments_.begin() + static_cast<std::ptrdiff_t>(at),
                    Fragment{bytes, std::move(owner)});
  size_ += bytes.size();
  return {};
}

Result<void> IoChain::replace(std::size_t offset, std::size_t length,
                              std::span<const std::byte> bytes, std::shared_ptr<const void> owner) {
  if (auto cut_ok = cut(offset, length); !cut_ok) return cut_ok;
  return insert(offset, bytes, std::move(owner));
}

Result<std::size_t> IoChain::coalesce(std::size_t max_fragments) {
  if (max_fragments == 0) {
    return fail(Errc::invalid_argument, "IoChain::coalesce", "a limit of 0 fragments");
  }
  std::size_t copied = 0;
  while (fragments_.size() > max_fragments) {
    // The neighbours with the fewest bytes between them: the cheapest copy that saves a fragment.
    std::size_t best = 0;
    std::size_t best_size = SIZE_MAX;
    for (std::size_t i = 0; i + 1 < fragments_.size(); ++i) {
      const std::size_t pair = fragments_[i].bytes.size() + fragments_[i + 1].bytes.size();
      if (pair < best_size) {
        best = i;
        best_size = pair;
      }
    }
    auto bounce = std::make_shared<std::vector<std::byte>>(best_size);
    const auto& a = fragments_[best].bytes;
    const auto& b = fragments_[best + 1].bytes;
    std::memcpy(bounce->data(), a.data(), a.size());
    std::memcpy(bounce->data() + a.size(), b.data(), b.size());
    copied += best_size;
    fragments_[best] = Fragment{std::span<const std::byte>(*bounce), bounce, true};
    fragments_.erase(fragments_.begin() + static_cast<std::ptrdiff_t>(best) + 1);
  }
  copied_bytes_ += copied;
  return copied;
}

std::vector<iovec> IoChain::iovecs() const {
  std::vector<iovec> iov;
  iov.reserve(fragments_.size());
  for (const Fragment& f : fragments_) {
    // sendmsg takes a non-const iov_base but never writes through it.
    iov.push_back(iovec{const_cast<std::byte*>(f.bytes.data()), f.bytes.size()});
  }
  return iov;
}

std::vector<std::byte> IoChain::flatten() const {
  std::vector<std::byte> bytes;
  bytes.reserve(size_);
  for (const Fragment& f : fragments_) bytes.insert(bytes.end(), f.bytes.begin(), f.bytes.end());
  return bytes;
}

Result<std::uint64_t> send_chain(ZeroCopySender& sender, IoChain chain, std::size_t max_fragments) {
  if (chain.fragment_count() > max_fragments) {
    if (auto copied = chain.coalesce(max_fragments); !copied) {
      return std::unexpected(copied.error());
    }
  }
  const std::vector<iovec> iov = chain.iovecs();
  // The chain rides in the release function: its owners live until the send completes.
  auto held = std::make_shared<IoChain>(std::move(chain));
  return sender.send(iov, [held]() mutable { held.reset(); });
}

}  // namespace zc::net
