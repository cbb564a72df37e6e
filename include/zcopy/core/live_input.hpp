// zcopy/core/live_input.hpp: reading an input that may be a file, a pipe or a live stream without
// ever blocking in read() while a writer is quiet. Waiting happens in poll(), beside another
// descriptor the caller keeps serving meanwhile; then what the input has is taken at once, so a
// live stream goes on line by line and a bulk one in full buffers.
//
//   zc::LiveInput input(STDIN_FILENO);
//   input.wait(publisher.fd(), [&] { publisher.service(); });
//   auto n = input.fill(buffer);   // 0 at end of input
#pragma once

#include <cstddef>
#include <functional>
#include <span>

#include "zcopy/core/error.hpp"

namespace zc {

class LiveInput {
 public:
  // `fd` is borrowed and left as it is (no O_NONBLOCK, which whoever shares a terminal or pipe
  // with us would see too).
  explicit LiveInput(int fd) noexcept;

  // Sleeps until the input is readable (or at its end), calling `on_other` each time `other`
  // becomes readable meanwhile. At once for a regular file or block device: those never wait
  // for a writer, and a poll() per read would only cost a system call.
  Result<void> wait(int other, const std::function<void()>& on_other);

  // After wait(): reads into `buffer` what the input has now, up to its size. Returns the bytes
  // read, 0 at end of input.
  Result<std::size_t> fill(std::span<std::byte> buffer);

 private:
  Result<std::size_t> read_some(std::span<std::byte> buffer);
  // One read that never waits for a writer: 0 when nothing is there now (or at the end).
  Result<std::size_t> read_now(std::span<std::byte> buffer);

  int fd_;
  bool file_ = false;   // a regular file or block device
  bool nowait_ = true;  // preadv2(RWF_NOWAIT) works here; otherwise poll() with no timeout
};

}  // namespace zc
