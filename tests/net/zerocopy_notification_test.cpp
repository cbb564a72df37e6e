// Parsing error-queue messages and tracking completions, against hand-built messages.
#include "zcopy/net/zerocopy_notification.hpp"

#include <gtest/gtest.h>
#include <linux/errqueue.h>
#include <netinet/in.h>

#include <array>
#include <cstring>
#include <vector>

#include "zcopy/net/completion_tracker.hpp"

namespace zc::net {
namespace {

// A message as recvmsg(MSG_ERRQUEUE) returns it: one IP_RECVERR (or IPV6_RECVERR) cmsg.
struct ErrqueueMessage {
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(sock_extended_err))> control{};
  msghdr msg{};

  ErrqueueMessage(sock_extended_err err, int level = SOL_IP, int type = IP_RECVERR) {
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = level;
    c->cmsg_type = type;
    c->cmsg_len = CMSG_LEN(sizeof err);
    std::memcpy(CMSG_DATA(c), &err, sizeof err);
  }
};

sock_extended_err zerocopy(std::uint32_t lo, std::uint32_t hi, bool copied = false) {
  sock_extended_err err{};
  err.ee_origin = SO_EE_ORIGIN_ZEROCOPY;
  err.ee_info = lo;
  err.ee_data = hi;
  err.ee_code = copied ? SO_EE_CODE_ZEROCOPY_COPIED : 0;
  return err;
}

TEST(ZerocopyNotification, ParsesARangeAndTheCopiedCode) {
  ErrqueueMessage m(zerocopy(5, 9, true));
  auto range = parse_zerocopy_notification(m.msg);
  ASSERT_TRUE(range) << range.error().message();
  ASSERT_TRUE(range->has_value());
  EXPECT_EQ((*range)->lo, 5u);
  EXPECT_EQ((*range)->hi, 9u);
  EXPECT_TRUE((*range)->copied);
  EXPECT_EQ((*range)->count(), 5u);

  ErrqueueMessage v6(zerocopy(7, 7), SOL_IPV6, IPV6_RECVERR);
  auto single = parse_zerocopy_notification(v6.msg);
  ASSERT_TRUE(single && single->has_value());
  EXPECT_FALSE((*single)->copied);
  EXPECT_EQ((*single)->count(), 1u);
}

TEST(ZerocopyNotification, CountsARangeThatWraps) {
  ErrqueueMessage m(zerocopy(0xFFFFFFFEu, 1));
  auto range = parse_zerocopy_notification(m.msg);
  ASSERT_TRUE(range && range->has_value());
  EXPECT_EQ((*range)->count(), 4u);
}

TEST(ZerocopyNotification, ReportsAnotherOriginAsAnError) {
  sock_extended_err err{};
  err.ee_origin = SO_EE_ORIGIN_ICMP;
  err.ee_errno = ECONNREFUSED;
  ErrqueueMessage m(err);
  auto range = parse_zerocopy_notification(m.msg);
  ASSERT_FALSE(range);
  EXPECT_EQ(range.error().sys_errno(), ECONNREFUSED);
}

TEST(ZerocopyNotification, RejectsATruncatedExtendedError) {
  ErrqueueMessage m(zerocopy(1, 2));
  CMSG_FIRSTHDR(&m.msg)->cmsg_len = CMSG_LEN(4);
  auto range = parse_zerocopy_notification(m.msg);
  ASSERT_FALSE(range);
  EXPECT_EQ(range.error().code(), Errc::corrupt);
}

TEST(ZerocopyNotification, NoControlDataIsNoNotification) {
  msghdr msg{};
  auto range = parse_zerocopy_notification(msg);
  ASSERT_TRUE(range);
  EXPECT_FALSE(range->has_value());
}

// Opens `sends` sends of `calls_each` calls; returns how many releases ran through `released`.
std::vector<std::uint64_t> open_sends(CompletionTracker& tracker, int sends, int calls_each,
                                      int& released) {
  std::vector<std::uint64_t> tickets;
  for (int s = 0; s < sends; ++s) {
    tickets.push_back(tracker.begin_send(100, [&released] { ++released; }));
    for (int c = 0; c < calls_each; ++c) tracker.add_call();
    tracker.end_send();
  }
  return tickets;
}

TEST(CompletionTracker, MergedRangeCompletesEverySendItCovers) {
  CompletionTracker tracker;
  int released = 0;
  auto tickets = open_sends(tracker, 4, 2, released);  // calls 0..7
  ASSERT_TRUE(tracker.complete(0, 4, false));
  EXPECT_EQ(released, 2);  // sends 0 and 1; send 2 still has call 5
  EXPECT_TRUE(tracker.is_complete(tickets[1]));
  EXPECT_FALSE(tracker.is_complete(tickets[2]));
  ASSERT_TRUE(tracker.complete(5, 7, true));
  EXPECT_EQ(released, 4);
  EXPECT_EQ(tracker.calls_outstanding(), 0u);
  EXPECT_EQ(tracker.bytes_outstanding(), 0u);
  EXPECT_EQ(tracker.bytes_completed_copied(), 200u);
  EXPECT_EQ(tracker.bytes_completed_zero_copy(), 200u);
  EXPECT_EQ(tracker.calls_copied(), 3u);
}

TEST(CompletionTracker, OutOfOrderRangesReleaseEachSendWhenItsCallsAreDone) {
  CompletionTracker tracker;
  int released = 0;
  auto tickets = open_sends(tracker, 3, 1, released);
  ASSERT_TRUE(tracker.complete(2, 2, false));
  EXPECT_EQ(released, 1);
  EXPECT_TRUE(tracker.is_complete(tickets[2]));
  EXPECT_FALSE(tracker.is_complete(tickets[0]));
  ASSERT_TRUE(tracker.complete(0, 0, false));
  ASSERT_TRUE(tracker.complete(1, 1, false));
  EXPECT_EQ(released, 3);
  EXPECT_EQ(tracker.sends_outstanding(), 0u);
}

TEST(CompletionTracker, CounterWrapsAt2To32) {
  CompletionTracker tracker(0xFFFFFFFDu);
  int released = 0;
  auto tickets = open_sends(tracker, 6, 1, released);  // calls FFFFFFFD..2
  ASSERT_TRUE(tracker.complete(0xFFFFFFFFu, 1, false));
  EXPECT_EQ(released, 3);
  ASSERT_TRUE(tracker.complete(0xFFFFFFFDu, 0xFFFFFFFEu, false));
  ASSERT_TRUE(tracker.complete(2, 2, false));
  EXPECT_EQ(released, 6);
  EXPECT_TRUE(tracker.is_complete(tickets[5]));
}

TEST(CompletionTracker, RefusesCallsNeverMadeOrCompletedTwice) {
  CompletionTracker tracker;
  int released = 0;
  open_sends(tracker, 2, 1, released);
  auto beyond = tracker.complete(0, 5, false);
  ASSERT_FALSE(beyond);
  EXPECT_EQ(beyond.error().code(), Errc::corrupt);
  ASSERT_TRUE(tracker.complete(1, 1, false));
  auto twice = tracker.complete(1, 1, false);
  ASSERT_FALSE(twice);
  EXPECT_EQ(released, 1);
}

TEST(CompletionTracker, AReleaseMaySendAgain) {
  CompletionTracker tracker;
  int released = 0;
  tracker.begin_send(10, [&] {
    ++released;
    tracker.begin_send(10, [&] { ++released; });
    tracker.add_call();
    tracker.end_send();
  });
  tracker.add_call();
  tracker.end_send();
  ASSERT_TRUE(tracker.complete(0, 0, false));
  EXPECT_EQ(released, 1);
  ASSERT_TRUE(tracker.complete(1, 1, false));
  EXPECT_EQ(released, 2);
}

TEST(CompletionTracker, SendWithoutCallsReleasesAtOnce) {
  CompletionTracker tracker;
  bool released = false;
  const auto ticket = tracker.begin_send(10, [&] { released = true; });
  EXPECT_FALSE(tracker.is_complete(ticket));
  tracker.end_send();
  EXPECT_TRUE(released);
  EXPECT_TRUE(tracker.is_complete(ticket));
}

}  // namespace
}  // namespace zc::net
