// Helpers shared by the NATS bridge tests (besides the channel tests' unique names and in-process
// connects): messages whose size and every byte follow from their index, checked word by word.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "bench/support/data.hpp"
#include "bench/support/nats_server.hpp"
#include "channel/channel_test_support.hpp"
#include "support/capability_gate.hpp"
#include "zcopy/channel/publisher.hpp"
#include "zcopy/nats/exporter.hpp"

namespace zc::test {

// Message `index`'s bytes: 64-bit words mixing the index and the word's position, so a message
// shifted, cut, reordered or mixed with another one fails the check.
inline void fill_message(std::span<std::byte> bytes, std::uint64_t index) {
  std::size_t at = 0;
  for (std::uint64_t word = 0; at < bytes.size(); ++word) {
    const std::uint64_t value = (index << 32) ^ (word * 0x9E37'79B9'7F4A'7C15ULL) ^ 0x5a5a;
    const std::size_t n = std::min<std::size_t>(8, bytes.size() - at);
    std::memcpy(bytes.data() + at, &value, n);
    at += n;
  }
}

// True when `bytes` is exactly message `index` of `size` bytes. `scratch` is reused.
inline bool check_message(std::span<const std::byte> bytes, std::uint64_t index, std::size_t size,
                          std::vector<std::byte>& scratch) {
  if (bytes.size() != size) return false;
  scratch.resize(size);
  fill_message(scratch, index);
  return std::memcmp(scratch.data(), bytes.data(), size) == 0;
}

// Publishes `count` messages (message i: size_of(i) bytes, fill_message) on `publisher` from a
// thread, then closes it, while `exporter` runs until everything reached the server. The first
// error's message, "" when none.
inline std::string feed_and_export(Publisher& publisher, nats::Exporter& exporter,
                                   std::uint64_t count,
                                   const std::function<std::size_t(std::uint64_t)>& size_of) {
  std::thread feeding([&] {
    for (std::uint64_t i = 0; i < count; ++i) {
      auto loan = publisher.loan();
      if (!loan) return;
      fill_message(loan->bytes().first(size_of(i)), i);
      if (!publisher.publish(std::move(*loan), size_of(i))) return;
    }
    publisher.close();
  });
  std::string error;
  for (bool more = true; more;) {
    auto ran = exporter.run_for(std::chrono::seconds(1));
    if (!ran) {
      error = ran.error().message();
      publisher.close();  // the feeding thread's next loan fails
      break;
    }
    more = *ran;
  }
  feeding.join();
  return error;
}

}  // namespace zc::test
