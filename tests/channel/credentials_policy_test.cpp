// Admission by credentials: the kernel-stamped uid and gid of a subscriber's hello decide. Another
// user is refused unless the publisher named its group.
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>

#include "channel/channel_test_support.hpp"
#include "support/capability_gate.hpp"
#include "zcopy/core/fd_passing.hpp"

namespace {

using namespace zc::test;

constexpr uid_t kNobody = 65534;
constexpr gid_t kAllowedGroup = 4242;

// A child that becomes uid 65534 with primary group `gid` and tries to subscribe. Exit 0 when
// admitted, 1 when refused with Errc::rejected, 2 otherwise.
pid_t subscribe_as_nobody(const std::string& name, gid_t gid) {
  return spawn([name, gid] {
    if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(kNobody) != 0) return 3;
    auto subscriber = zc::Subscriber::connect(name, 5s, {.publisher_uid = 0});
    if (subscriber) return 0;
    return subscriber.error().code() == zc::Errc::rejected ? 1 : 2;
  });
}

// Services the publisher until `child` exits (its status) or `limit` passes (killed: 128 + 9).
int run_against_publisher(zc::Publisher& publisher, pid_t child,
                          std::chrono::milliseconds limit = 5s) {
  std::optional<int> status;
  if (!serve_until(
          publisher, [&] { return (status = reap(child, true)).has_value(); }, limit)) {
    ::kill(child, SIGKILL);
    return *reap(child);
  }
  return *status;
}

TEST(CredentialsPolicy, AnotherUserIsRefusedUnlessItsGroupIsAllowed) {
  ZC_REQUIRE_ROOT("to run a subscriber as uid 65534");
  const std::string name = unique_channel("creds");
  auto publisher = zc::Publisher::create(
      name, {.chunk_size = 64, .chunk_count = 4, .allowed_group = kAllowedGroup});
  ASSERT_TRUE(publisher);
  EXPECT_EQ(run_against_publisher(*publisher, subscribe_as_nobody(name, kNobody)), 1);
  EXPECT_EQ(publisher->stats().refused, 1U);
  EXPECT_EQ(run_against_publisher(*publisher, subscribe_as_nobody(name, kAllowedGroup)), 0);
  EXPECT_EQ(publisher->stats().refused, 1U);
}

TEST(CredentialsPolicy, WithoutAGroupOnlyTheCreatingUserIsAdmitted) {
  ZC_REQUIRE_ROOT("to run a subscriber as uid 65534");
  const std::string name = unique_channel("owner");
  auto publisher = zc::Publisher::create(name, {.chunk_size = 64, .chunk_count = 4});
  ASSERT_TRUE(publisher);
  EXPECT_EQ(run_against_publisher(*publisher, subscribe_as_nobody(name, kAllowedGroup)), 1);
  auto own = connect_in_process(*publisher, name);
  EXPECT_TRUE(own) << own.error().message();
}

TEST(CredentialsPolicy, AStrangerIsRefusedAsSoonAsItConnectsBeforeItSaysAnything) {
  ZC_REQUIRE_ROOT("to connect as uid 65534");
  const std::string name = unique_channel("stranger");
  auto publisher = zc::Publisher::create(name, {.chunk_size = 64, .chunk_count = 4});
  ASSERT_TRUE(publisher);
  // Exit 0 when the refusal arrives without a hello having been sent.
  const pid_t child = spawn([name] {
    if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) return 3;
    auto socket = zc::UnixSocket::connect(zc::channel_address(name));
    if (!socket) return 4;
    pollfd p{socket->fd(), POLLIN, 0};
    if (::poll(&p, 1, 30'000) != 1) return 1;
    auto answer = socket->receive({.uid = 0, .gid = std::nullopt});
    if (!answer) return 2;
    const std::string text(reinterpret_cast<const char*>(answer->payload.data()),
                           answer->payload.size());
    return text.starts_with("refused: ") && answer->fds.empty() ? 0 : 5;
  });
  EXPECT_EQ(run_against_publisher(*publisher, child, 30s), 0);
  EXPECT_EQ(publisher->stats().refused, 1U);
  EXPECT_EQ(publisher->stats().subscribers, 0U);
}

TEST(CredentialsPolicy, ASubscriberRefusesAPublisherOfAnotherUser) {
  const std::string name = unique_channel("squat");
  auto publisher = zc::Publisher::create(name, {.chunk_size = 64, .chunk_count = 4});
  ASSERT_TRUE(publisher);
  std::optional<zc::Result<zc::Subscriber>> result;
  std::thread connecting([&] {
    result.emplace(zc::Subscriber::connect(name, 2s, {.publisher_uid = ::geteuid() + 1}));
  });
  (void)publisher->wait_for_subscribers(1, 2s);
  connecting.join();
  ASSERT_FALSE(*result);
  EXPECT_EQ(result->error().code(), zc::Errc::rejected);
}

}  // namespace
