// The bookkeeping cost per zero-copy send: parsing an error-queue message and retiring sends
// through the completion tracker, for ranges of different widths (the kernel merges consecutive
// completions into one range when the socket's error queue has not been read yet).
#include <benchmark/benchmark.h>
#include <linux/errqueue.h>
#include <netinet/in.h>

#include <array>
#include <cstring>

#include "zcopy/net/completion_tracker.hpp"
#include "zcopy/net/zerocopy_notification.hpp"

namespace {

void BM_TrackSendsAndRetireByRange(benchmark::State& state) {
  const auto width = static_cast<std::uint32_t>(state.range(0));
  zc::net::CompletionTracker tracker;
  std::uint64_t released = 0;
  std::uint32_t next = 0;
  for (auto _ : state) {
    for (std::uint32_t i = 0; i < width; ++i) {
      tracker.begin_send(65536, [&released] { ++released; });
      tracker.add_call();
      tracker.end_send();
    }
    if (!tracker.complete(next, next + width - 1, false)) state.SkipWithError("complete failed");
    next += width;
  }
  benchmark::DoNotOptimize(released);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * width);
}
BENCHMARK(BM_TrackSendsAndRetireByRange)->Arg(1)->Arg(16)->Arg(256);

void BM_ParseNotification(benchmark::State& state) {
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(sock_extended_err))> control{};
  msghdr msg{};
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_IP;
  c->cmsg_type = IP_RECVERR;
  c->cmsg_len = CMSG_LEN(sizeof(sock_extended_err));
  sock_extended_err err{};
  err.ee_origin = SO_EE_ORIGIN_ZEROCOPY;
  err.ee_info = 10;
  err.ee_data = 20;
  std::memcpy(CMSG_DATA(c), &err, sizeof err);
  for (auto _ : state) {
    auto range = zc::net::parse_zerocopy_notification(msg);
    benchmark::DoNotOptimize(range);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_ParseNotification);

}  // namespace
