// zcopy/channel/channel_options.hpp: how a channel is sized, who may join it, and what a publisher
// does when a subscriber falls behind.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace zc {

enum class Backpressure : std::uint8_t {
  // publish() (and loan()) wait for queue space and free chunks, up to ChannelOptions::timeout,
  // then fail with Errc::timeout. Nothing is ever lost.
  block,
  // A mailbox: when a subscriber's queue is full, its oldest unread message is taken back and
  // counted (Publisher::stats().dropped, Subscriber::dropped()); the publisher never waits for a
  // slow subscriber's queue.
  drop_oldest,
};

struct ChannelOptions {
  std::size_t chunk_size = 64 * 1024;
  std::size_t chunk_count = 256;  // at most 2^24
  // Messages queued per subscriber, a power of two in [2, 65536].
  std::size_t queue_depth = 64;
  std::size_t max_subscribers = 16;
  Backpressure backpressure = Backpressure::block;
  // How long a blocking loan() or publish() waits before Errc::timeout.
  std::chrono::milliseconds timeout{1000};
  // Besides the creating user, subscribers whose gid is this one are admitted.
  std::optional<gid_t> allowed_group{};
  // Pin the payload pool in RAM.
  bool pin = false;
  // Connections whose hello has not arrived yet, at most; a newer one pushes out the oldest. In
  // [1, 65536].
  std::size_t max_pending = 64;
  // How long a connection may stay silent before its hello; then it is closed.
  std::chrono::milliseconds hello_timeout{2000};
};

struct SubscriberOptions {
  // Whose channel we accept: the user that runs the publisher (default: our own effective uid),
  // or, when set, any publisher whose gid is `publisher_group`.
  uid_t publisher_uid = ::geteuid();
  std::optional<gid_t> publisher_group{};
  // Polls of an empty queue before going to sleep on the eventfd, at most: spins that end in
  // sleep halve the count used (down to 64), spins that find a message double it again, so a
  // subscriber that outnumbers the CPUs with its publisher does not spin away the CPU it needs.
  std::uint32_t spin_count = 2000;
};

// "@zcopy/channel/<name>": the abstract socket a channel listens on. Names are 1-80 bytes of
// [A-Za-z0-9._-].
bool valid_channel_name(std::string_view name) noexcept;
std::string channel_address(std::string_view name);

}  // namespace zc
