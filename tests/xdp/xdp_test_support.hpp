// tests/xdp/xdp_test_support.hpp: what the AF_XDP tests share: a veth pair between two
// namespaces of their own (bench/support's VethPair, gone with the test process however it
// ends), the gates every such test passes, datagrams sent from the far side, and receiving with a
// bound on the wait.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/support/packets.hpp"
#include "bench/support/process.hpp"
#include "bench/support/veth_pair.hpp"
#include "support/capability_gate.hpp"
#include "zcopy/xdp/frame.hpp"
#include "zcopy/xdp/socket.hpp"

namespace zc::xdp::test {

using bench::ThreadInNamespace;
using bench::VethPair;

// Root, AF_XDP and driver-mode XDP on veth: what a test on a veth pair needs.
#define ZC_REQUIRE_XDP_ON_VETH()                              \
  do {                                                        \
    ZC_REQUIRE_ROOT("to make network namespaces");            \
    ZC_REQUIRE_CAPABILITY(::zc::Capability::af_xdp);          \
    ZC_REQUIRE_CAPABILITY(::zc::Capability::xdp_native_veth); \
  } while (false)

constexpr std::uint16_t kPort = 9000;

// Sends `count` sequenced datagrams of `size` bytes from side `from` to the other side's address
// (a forked child in `from`'s namespace); the child's exit code, 0 when all were sent.
inline int send_from(const VethPair& link, VethPair::Side from, std::uint64_t count,
                     std::size_t size, std::uint32_t first = 0) {
  const VethPair::Side to = from == VethPair::a ? VethPair::b : VethPair::a;
  return link.run_in(from, [&] {
    auto sent = bench::send_datagrams(link.ip(to), kPort, count, size, first);
    if (!sent) std::fprintf(stderr, "%s\n", sent.error().message().c_str());
    return sent && *sent == count ? 0 : 1;
  });
}

// True when `ip link` shows an XDP program on side `side`'s end of the pair.
inline bool xdp_attached(const VethPair& link, VethPair::Side side) {
  const bench::RunResult shown =
      bench::run(link.exec(side, {"ip", "-o", "link", "show", "dev", link.name(side)}));
  return shown.output.find("prog/xdp") != std::string::npos;
}

// Receives until `count` frames have arrived or `limit` has passed (a bound only a broken socket
// reaches: the frames are all in the rx ring already, or arrive within milliseconds).
inline std::vector<Frame> receive_frames(
    Socket& socket, std::size_t count, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  std::vector<Frame> frames;
  std::array<Frame, 64> batch;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (frames.size() < count && std::chrono::steady_clock::now() < deadline) {
    (void)socket.wait(std::chrono::milliseconds(50));
    const std::size_t n = socket.receive(batch);
    for (std::size_t i = 0; i < n; ++i) frames.push_back(std::move(batch[i]));
  }
  return frames;
}

}  // namespace zc::xdp::test
