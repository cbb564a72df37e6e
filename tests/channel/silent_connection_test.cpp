// Connections that never say hello: each is closed at its deadline, and no more than max_pending
// of them are held at once (a newer one pushes out the oldest), so they cannot pile up.
#include <gtest/gtest.h>
#include <poll.h>

#include <vector>

#include "channel/channel_test_support.hpp"
#include "zcopy/channel/channel_options.hpp"
#include "zcopy/core/fd_passing.hpp"

namespace {

using namespace zc::test;

// True once the publisher closed its end of `socket`.
bool hung_up(const zc::UnixSocket& socket) {
  pollfd p{socket.fd(), POLLIN | POLLRDHUP, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLRDHUP)) != 0;
}

TEST(SilentConnections, AConnectionThatNeverSaysHelloIsClosedAtItsDeadline) {
  const std::string name = unique_channel("silent");
  auto publisher = zc::Publisher::create(name, {.chunk_size = 64, .chunk_count = 4});
  ASSERT_TRUE(publisher);
  auto silent = zc::UnixSocket::connect(zc::channel_address(name));
  ASSERT_TRUE(silent) << silent.error().message();
  // The default deadline is two seconds; 30 s is reached only if it is never enforced.
  EXPECT_TRUE(serve_until(
      *publisher, [&] { return hung_up(*silent); }, 30s));
  EXPECT_EQ(publisher->stats().silent, 1U);
  EXPECT_EQ(publisher->stats().refused, 0U);
  auto subscriber = connect_in_process(*publisher, name);
  EXPECT_TRUE(subscriber) << subscriber.error().message();
}

TEST(SilentConnections, BeyondMaxPendingTheOldestSilentConnectionMakesRoom) {
  const std::string name = unique_channel("crowd");
  auto publisher = zc::Publisher::create(
      name, {.chunk_size = 64, .chunk_count = 4, .max_pending = 4, .hello_timeout = 600s});
  ASSERT_TRUE(publisher);
  std::vector<zc::UnixSocket> silent;
  for (int i = 0; i < 10; ++i) {
    auto socket = zc::UnixSocket::connect(zc::channel_address(name));
    ASSERT_TRUE(socket) << socket.error().message();
    silent.push_back(std::move(*socket));
  }
  auto closed = [&] {
    std::size_t count = 0;
    for (const auto& socket : silent) count += hung_up(socket) ? 1U : 0U;
    return count;
  };
  ASSERT_TRUE(serve_until(
      *publisher, [&] { return closed() >= 6; }, 30s))
      << closed();
  for (std::size_t i = 0; i < silent.size(); ++i) {
    EXPECT_EQ(hung_up(silent[i]), i < 6) << "connection " << i << ": the oldest go first";
  }
  EXPECT_EQ(publisher->stats().silent, 6U);
  // A subscriber that speaks is admitted at once, crowding out one more silent connection.
  auto subscriber = connect_in_process(*publisher, name);
  ASSERT_TRUE(subscriber) << subscriber.error().message();
  EXPECT_EQ(publisher->stats().subscribers, 1U);
  ASSERT_TRUE(publish_message(*publisher));
  auto sample = subscriber->receive(30s);
  ASSERT_TRUE(sample) << sample.error().message();
  EXPECT_TRUE(check_message(sample->bytes(), 0));
}

}  // namespace
