// A publisher that runs out of file descriptors (a low RLIMIT_NOFILE, a flood of idle connections)
// must neither spin on its listener nor stop admitting: idle connections make room, a connection
// it cannot take is told so, and once descriptors free up subscribers get in again.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <filesystem>
#include <vector>

#include "channel/channel_test_support.hpp"
#include "support/capability_gate.hpp"
#include "zcopy/core/fd.hpp"

namespace {

using namespace zc::test;

constexpr std::size_t kIdleConnections = 1500;

// Lowers RLIMIT_NOFILE so that only `room` descriptors above the highest open one are left.
bool leave_descriptor_room(int room) {
  int highest = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    highest = std::max(highest, std::stoi(entry.path().filename().string()));
  }
  const auto limit = static_cast<rlim_t>(highest + 1 + room);
  const rlimit lowered{limit, limit};
  return ::setrlimit(RLIMIT_NOFILE, &lowered) == 0;
}

// Raises our own soft RLIMIT_NOFILE to at least `wanted`; false if the hard limit forbids it.
bool allow_descriptors(rlim_t wanted) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return false;
  if (limit.rlim_cur >= wanted) return true;
  if (limit.rlim_max < wanted) return false;
  limit.rlim_cur = wanted;
  return ::setrlimit(RLIMIT_NOFILE, &limit) == 0;
}

// Starts a connection that will never say anything: a non-blocking connect, so a full backlog
// is EAGAIN (try again later) rather than a wait. An invalid Fd when it did not connect.
zc::Fd connect_idle(const std::string& name) {
  const std::string address = zc::channel_address(name);  // "@zcopy/channel/..."
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::memcpy(sun.sun_path + 1, address.data() + 1, address.size() - 1);
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size());
  zc::Fd fd = zc::Fd::adopt(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return fd;
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&sun), length) != 0) return {};
  return fd;
}

// Subscribes, expects message 0 and then the end of the stream. Exit 0 when all was well.
int subscribe_for_one_message(const std::string& name) {
  auto subscriber = zc::Subscriber::connect(name, 30s);
  if (!subscriber) return 10;
  auto sample = subscriber->receive(30s);
  if (!sample) return 11;
  if (sample->sequence() != 0 || !check_message(sample->bytes(), 0)) return 12;
  sample->reset();
  auto end = subscriber->receive(30s);
  return !end && end.error().code() == zc::Errc::closed ? 0 : 13;
}

// Waits for `subscribers`, publishes message 0 to them, ends the stream and serves until they
// have all left. 0 when all went well.
int publish_one_and_close(zc::Publisher& publisher, std::size_t subscribers) {
  if (!publisher.wait_for_subscribers(subscribers, 60s)) return 20;
  if (!publish_message(publisher)) return 21;
  publisher.close();
  return serve_until(
             publisher, [&] { return publisher.stats().subscribers == 0; }, 60s)
             ? 0
             : 22;
}

TEST(DescriptorExhaustion, ASubscriberGetsInPastFifteenHundredIdleConnections) {
  if (!allow_descriptors(4 * kIdleConnections)) {
    ZC_SKIP_BECAUSE("needs RLIMIT_NOFILE of " + std::to_string(4 * kIdleConnections));
  }
  const std::string name = unique_channel("flood");
  // The publisher runs in a child with room for a dozen descriptors: far fewer than the idle
  // connections, and fewer than max_pending, so accept() runs into EMFILE.
  const pid_t publisher_pid = spawn([&] {
    auto publisher = zc::Publisher::create(name, {.chunk_size = 64, .chunk_count = 4});
    if (!publisher) return 1;
    if (!leave_descriptor_room(12)) return 2;
    return publish_one_and_close(*publisher, 1);
  });
  ASSERT_GT(publisher_pid, 0);

  std::vector<zc::Fd> idle;
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  while (idle.size() < kIdleConnections && std::chrono::steady_clock::now() < give_up) {
    zc::Fd fd = connect_idle(name);
    if (fd.valid()) {
      idle.push_back(std::move(fd));
    } else {
      std::this_thread::sleep_for(1ms);  // not listening yet, or the backlog is full
    }
  }
  EXPECT_EQ(idle.size(), kIdleConnections) << "the publisher stopped accepting connections";

  EXPECT_EQ(run_in_child([&] { return subscribe_for_one_message(name); }), 0);
  EXPECT_EQ(reap(publisher_pid), 0);
}

TEST(DescriptorExhaustion, AConnectionThePublisherHasNoDescriptorForIsToldAndLaterOnesGetIn) {
  const std::string name = unique_channel("nofile");
  int hogging[2];  // the publisher says when it has used up its descriptors, and freed them
  int release[2];  // we say when it may free them
  ASSERT_EQ(::pipe(hogging), 0);
  ASSERT_EQ(::pipe(release), 0);
  const pid_t publisher_pid = spawn([&] {
    auto publisher = zc::Publisher::create(name, {.chunk_size = 64, .chunk_count = 4});
    if (!publisher) return 1;
    if (!leave_descriptor_room(32)) return 2;
    if (!publisher->wait_for_subscribers(1, 60s)) return 3;
    // Every descriptor left goes to something else in the process; no connection is pending.
    std::vector<zc::Fd> hog;
    for (;;) {
      auto fd = zc::Fd::open("/dev/null", O_RDONLY);
      if (!fd) break;
      hog.push_back(std::move(*fd));
    }
    if (::write(hogging[1], "h", 1) != 1) return 4;
    char byte = 0;
    pollfd released{release[0], POLLIN, 0};
    if (!serve_until(
            *publisher, [&] { return ::poll(&released, 1, 0) == 1; }, 60s))
      return 5;
    if (::read(release[0], &byte, 1) != 1) return 6;
    hog.clear();
    if (::write(hogging[1], "f", 1) != 1) return 10;
    return publish_one_and_close(*publisher, 2);
  });
  ASSERT_GT(publisher_pid, 0);
  const pid_t first = spawn([&] { return subscribe_for_one_message(name); });
  char byte = 0;
  ASSERT_EQ(::read(hogging[0], &byte, 1), 1);

  // No descriptor for this one: it is refused (or hung up on), never left waiting.
  auto refused = zc::Subscriber::connect(name, 30s);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().code(), zc::Errc::timeout) << refused.error().message();

  ASSERT_EQ(::write(release[1], "r", 1), 1);
  ASSERT_EQ(::read(hogging[0], &byte, 1), 1);
  EXPECT_EQ(run_in_child([&] { return subscribe_for_one_message(name); }), 0);
  EXPECT_EQ(reap(first), 0);
  EXPECT_EQ(reap(publisher_pid), 0);
  for (int fd : {hogging[0], hogging[1], release[0], release[1]}) ::close(fd);
}

}  // namespace
