// Helpers shared by the channel tests: unique channel names, self-checking payloads, forked
// peers and in-process connects.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <thread>

#include "support/child_process.hpp"
#include "support/sanitizer.hpp"
#include "zcopy/channel/publisher.hpp"
#include "zcopy/channel/subscriber.hpp"

namespace zc::test {

using namespace std::chrono_literals;

// A channel name no other test (or test run) uses.
inline std::string unique_channel(const char* what) {
  static std::atomic<int> counter{0};
  return std::string("test-") + what + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter.fetch_add(1));
}

inline std::uint64_t fnv1a(std::span<const std::byte> bytes) {
  std::uint64_t hash = 0xcbf2'9ce4'8422'2325;
  for (std::byte b : bytes) hash = (hash ^ static_cast<std::uint8_t>(b)) * 0x100'0000'01b3;
  return hash;
}

// A message that checks itself: [sequence][checksum of the rest][bytes derived from sequence].
// Its length varies with the sequence, between 16 and `capacity` bytes.
inline std::size_t write_message(std::span<std::byte> chunk, std::uint64_t sequence) {
  const std::size_t body = 16 + (sequence * 37) % (chunk.size() - 15);
  const std::size_t length = body > chunk.size() ? chunk.size() : body;
  for (std::size_t i = 16; i < length; ++i) {
    chunk[i] = static_cast<std::byte>((sequence * 131 + i * 7) & 0xff);
  }
  const std::uint64_t sum = fnv1a(chunk.subspan(16, length - 16));
  std::memcpy(chunk.data(), &sequence, 8);
  std::memcpy(chunk.data() + 8, &sum, 8);
  return length;
}

// True when `bytes` is a whole, untorn message whose embedded sequence is `sequence`.
inline bool check_message(std::span<const std::byte> bytes, std::uint64_t sequence) {
  if (bytes.size() < 16) return false;
  std::uint64_t embedded = 0;
  std::uint64_t sum = 0;
  std::memcpy(&embedded, bytes.data(), 8);
  std::memcpy(&sum, bytes.data() + 8, 8);
  return embedded == sequence && sum == fnv1a(bytes.subspan(16));
}

// Loans, fills and publishes one self-checking message.
inline Result<std::uint64_t> publish_message(Publisher& publisher) {
  auto loan = publisher.loan();
  if (!loan) return std::unexpected(loan.error());
  const std::size_t length = write_message(loan->bytes(), publisher.stats().published);
  return publisher.publish(std::move(*loan), length);
}

// Services the publisher, sleeping on its fd between rounds, until `done()` holds (true) or
// `limit` has passed (false).
inline bool serve_until(Publisher& publisher, const std::function<bool()>& done,
                        std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    publisher.service();
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    pollfd p{publisher.fd(), POLLIN, 0};
    (void)::poll(&p, 1, 5);
  }
}

// Connects a subscriber from a thread while this thread services the publisher, so that both ends
// can then be driven from one thread.
inline Result<Subscriber> connect_in_process(Publisher& publisher, const std::string& name) {
  std::optional<Result<Subscriber>> result;
  const std::size_t before = publisher.stats().subscribers;
  std::thread connecting([&] { result.emplace(Subscriber::connect(name, 5s)); });
  (void)publisher.wait_for_subscribers(before + 1, 5s);
  connecting.join();
  return std::move(*result);
}

// A subscriber process: receives until end of stream, checking every payload and that sequences
// only grow. Exit 0 when all was well, 10+ for the first problem found.
inline int subscribe_and_check(const std::string& name, std::size_t stop_after = SIZE_MAX) {
  auto subscriber = Subscriber::connect(name, 10s);
  if (!subscriber) return 10;
  std::optional<std::uint64_t> last;
  for (std::size_t received = 0; received < stop_after; ++received) {
    auto sample = subscriber->receive(10s);
    if (!sample) return sample.error().code() == Errc::closed ? 0 : 11;
    if (last && sample->sequence() <= *last) return 12;
    if (!check_message(sample->bytes(), sample->sequence())) return 13;
    last = sample->sequence();
  }
  return 0;
}

}  // namespace zc::test
