// tests/xdp/xdp_test_support.hpp: what the AF_XDP tests share: a veth pair between two
// namespaces of their own (bench/support's VethPair, gone with the test process however it
// ends), the gates every such test passes, datagrams sent from the far side, and receiving with a
// bound on the wait.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
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

// One packet of a capture file as a reader program printed it.
struct ReadPacket {
  std::vector<std::byte> bytes;  // as captured (up to the snaplen)
  std::size_t length = 0;        // on the wire
};

inline std::optional<std::vector<std::byte>> hex_bytes(std::string_view hex) {
  std::vector<std::byte> bytes;
  unsigned value = 0;
  int digits = 0;
  for (char c : hex) {
    int nibble = -1;
    if (c >= '0' && c <= '9') nibble = c - '0';
    if (c >= 'a' && c <= 'f') nibble = c - 'a' + 10;
    if (nibble < 0) {
      if (c == ' ' || c == ':') continue;
      return std::nullopt;
    }
    value = value * 16 + static_cast<unsigned>(nibble);
    if (++digits == 2) {
      bytes.push_back(std::byte(value));
      value = 0;
      digits = 0;
    }
  }
  if (digits != 0) return std::nullopt;
  return bytes;
}

// The packets of a pcap file as `tcpdump -r FILE -nn -xx` prints them (link header included);
// nullopt when tcpdump cannot read the file.
inline std::optional<std::vector<ReadPacket>> read_with_tcpdump(const std::string& path) {
  const bench::RunResult out = bench::run({"tcpdump", "-r", path, "-nn", "-xx"}, false);
  if (out.exit_code != 0) return std::nullopt;
  std::vector<ReadPacket> packets;
  std::size_t from = 0;
  while (from < out.output.size()) {
    const std::size_t end = std::min(out.output.find('\n', from), out.output.size());
    const std::string_view line(out.output.data() + from, end - from);
    from = end + 1;
    if (line.empty()) continue;
    if (line[0] != '\t' && line[0] != ' ') {
      packets.push_back({});
      // "... length 242" is the last field tcpdump prints for an unknown payload.
      const std::size_t at = line.rfind("length ");
      if (at != std::string_view::npos) {
        packets.back().length = std::strtoul(std::string(line.substr(at + 7)).c_str(), nullptr, 10);
      }
      continue;
    }
    const std::size_t colon = line.find(":  ");
    if (packets.empty() || colon == std::string_view::npos) return std::nullopt;
    auto bytes = hex_bytes(line.substr(colon + 3));
    if (!bytes) return std::nullopt;
    packets.back().bytes.insert(packets.back().bytes.end(), bytes->begin(), bytes->end());
  }
  return packets;
}

// Per packet of a pcap file, as `tshark -r` reads it: frame length, captured length and the UDP
// payload; nullopt when tshark cannot read the file.
struct TsharkPacket {
  std::size_t length = 0;
  std::size_t captured = 0;
  std::vector<std::byte> udp_payload;
};
inline std::optional<std::vector<TsharkPacket>> read_with_tshark(const std::string& path) {
  const bench::RunResult out =
      bench::run({"tshark", "-r", path, "-T", "fields", "-E", "separator=/t", "-e", "frame.len",
                  "-e", "frame.cap_len", "-e", "udp.payload"},
                 false);
  if (out.exit_code != 0) return std::nullopt;
  std::vector<TsharkPacket> packets;
  std::size_t from = 0;
  while (from < out.output.size()) {
    const std::size_t end = std::min(out.output.find('\n', from), out.output.size());
    const std::string line = out.output.substr(from, end - from);
    from = end + 1;
    if (line.empty()) continue;
    TsharkPacket p;
    const std::size_t tab1 = line.find('\t');
    const std::size_t tab2 = line.find('\t', tab1 + 1);
    if (tab1 == std::string::npos || tab2 == std::string::npos) return std::nullopt;
    p.length = std::strtoul(line.c_str(), nullptr, 10);
    p.captured = std::strtoul(line.c_str() + tab1 + 1, nullptr, 10);
    auto payload = hex_bytes(std::string_view(line).substr(tab2 + 1));
    if (!payload) return std::nullopt;
    p.udp_payload = std::move(*payload);
    packets.push_back(std::move(p));
  }
  return packets;
}

}  // namespace zc::xdp::test
