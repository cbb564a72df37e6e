#include "socket_low_water.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <limits>

#include "zcopy/secure/record_format.hpp"

namespace zc::http::detail {

SocketLowWater::SocketLowWater(int socket, std::uint64_t batch) noexcept
    : socket_(socket),
      batch_(
          static_cast<int>(std::min<std::uint64_t>(batch, std::numeric_limits<int>::max() / 2))) {}

SocketLowWater::~SocketLowWater() {
  set(1);
}

void SocketLowWater::before_wait(std::uint64_t body_left) noexcept {
  if (off_) return;
  // Records carry more than their plaintext, so the socket brings at least the plaintext left
  // beyond the one record the reader may hold in part.
  const std::uint64_t sure =
      body_left > secure::kMaxRecordSize ? body_left - secure::kMaxRecordSize : 0;
  set(sure >= static_cast<std::uint64_t>(batch_) ? batch_ : 1);
}

void SocketLowWater::slice_passed() noexcept {
  off_ = true;
  set(1);
}

void SocketLowWater::set(int bytes) noexcept {
  if (bytes == current_) return;
  if (::setsockopt(socket_, SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof bytes) == 0) current_ = bytes;
}

}  // namespace zc::http::detail
