// `zcopy xdp` run as a user would, inside one namespace of a veth pair of the test's own, with
// traffic from the other: count counts what was sent, capture writes what tcpdump and tshark
// read back, echo answers the far side, and a killed tool leaves no program on the interface.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>

#include "bench/support/data.hpp"
#include "bench/support/json_fields.hpp"
#include "support/capability_gate.hpp"
#include "support/shell_command.hpp"
#include "xdp_test_support.hpp"
#include "zcopy/core/fd.hpp"

namespace zc::xdp {
namespace {

using bench::Output;
using bench::Process;
using bench::VethPair;

constexpr std::size_t kPayload = 200;
const std::chrono::seconds kBound(20);  // what takes milliseconds; a hung tool never ends

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class XdpCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    ZC_REQUIRE_TOOL();
    ZC_REQUIRE_XDP_ON_VETH();
    link_ = std::make_unique<VethPair>(bench::VethPairOptions{.second_octet = 216});
    ASSERT_TRUE(link_->ok()) << link_->why();
  }

  // `zcopy xdp ARGS...` on side a, its stdout and stderr in one pipe, once its socket is bound
  // (the mode line is the sign).
  Process start(std::vector<std::string> args) {
    std::vector<std::string> argv{zc::test::zcopy_tool(), "xdp"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto tool =
        Process::spawn(link_->exec(VethPair::a, argv), {.out = Output::pipe, .err = Output::pipe});
    EXPECT_TRUE(tool) << tool.error().message();
    if (!tool) return {};
    while (auto line = tool->read_line(kBound)) {
      seen_ += *line + "\n";
      if (contains(*line, "zcopy xdp: ")) break;
    }
    EXPECT_TRUE(contains(seen_, "copy mode")) << seen_;
    return std::move(*tool);
  }
  // What the tool printed, once it ended (within the bound); its exit code.
  int finish(Process& tool) {
    const auto exit = tool.wait_for(kBound);
    if (!exit) {
      tool.kill();
      seen_ += tool.read_all();
      return -1;
    }
    seen_ += tool.read_all();
    return exit->code;
  }
  std::string interface() const { return link_->name(VethPair::a); }

  std::unique_ptr<VethPair> link_;
  std::string seen_;
};

TEST_F(XdpCommand, CountCountsEveryDatagramSent) {
  constexpr std::uint64_t kCount = 2000;
  Process tool = start({"count", interface(), "-c", std::to_string(kCount)});
  ASSERT_EQ(test::send_from(*link_, VethPair::b, kCount, kPayload), 0);
  EXPECT_EQ(finish(tool), 0) << seen_;
  EXPECT_TRUE(contains(seen_, "rx " + std::to_string(kCount) + " packets")) << seen_;
  EXPECT_TRUE(contains(seen_, "dropped 0, invalid 0")) << seen_;
}

TEST_F(XdpCommand, CaptureWritesWhatTcpdumpAndTsharkReadBack) {
  ZC_REQUIRE_PROGRAM("tcpdump");
  ZC_REQUIRE_PROGRAM("tshark");
  constexpr std::uint64_t kCount = 300;
  bench::TempDir dir("zcopy-xdp-capture");
  const std::string file = dir.path() + "/out.pcap";
  Process tool = start({"capture", interface(), "-w", file, "-c", std::to_string(kCount)});
  ASSERT_EQ(test::send_from(*link_, VethPair::b, kCount, kPayload), 0);
  ASSERT_EQ(finish(tool), 0) << seen_;
  EXPECT_TRUE(contains(seen_, std::to_string(kCount) + " packets captured\n")) << seen_;
  EXPECT_TRUE(contains(seen_, "0 packets dropped by kernel\n")) << seen_;

  const auto read = test::read_with_tcpdump(file);
  ASSERT_TRUE(read) << "tcpdump could not read " << file;
  ASSERT_EQ(read->size(), kCount);
  for (std::uint32_t i = 0; i < kCount; ++i) {
    const auto payload = bench::udp_payload_of((*read)[i].bytes);
    const auto expected = bench::sequenced_payload(i, kPayload);
    ASSERT_TRUE(std::ranges::equal(payload, expected)) << "packet " << i;
  }
  const auto shark = test::read_with_tshark(file);
  ASSERT_TRUE(shark) << "tshark could not read " << file;
  ASSERT_EQ(shark->size(), kCount);
  for (std::uint32_t i = 0; i < kCount; ++i) {
    EXPECT_EQ((*shark)[i].captured, (*shark)[i].length);
    ASSERT_EQ((*shark)[i].udp_payload, bench::sequenced_payload(i, kPayload)) << "packet " << i;
  }
}

TEST_F(XdpCommand, CaptureKeepsTheSnaplenAndTheWireLength) {
  ZC_REQUIRE_PROGRAM("tshark");
  bench::TempDir dir("zcopy-xdp-capture");
  const std::string file = dir.path() + "/cut.pcap";
  Process tool = start({"capture", interface(), "-w", file, "-c", "10", "--snaplen", "60"});
  ASSERT_EQ(test::send_from(*link_, VethPair::b, 10, kPayload), 0);
  ASSERT_EQ(finish(tool), 0) << seen_;
  const auto shark = test::read_with_tshark(file);
  ASSERT_TRUE(shark);
  ASSERT_EQ(shark->size(), 10u);
  for (const test::TsharkPacket& p : *shark) {
    EXPECT_EQ(p.captured, 60u);
    EXPECT_EQ(p.length, 14 + 20 + 8 + kPayload);
  }
}

// True once `pid` is stopped (state T in /proc/PID/stat), within kBound.
bool stopped(pid_t pid) {
  const auto give_up = std::chrono::steady_clock::now() + kBound;
  while (std::chrono::steady_clock::now() < give_up) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const std::size_t after_name = text.rfind(") ");
    if (after_name != std::string::npos && text.substr(after_name + 2, 1) == "T") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

// A capture whose writer stalls (a slow disk, a busy CPU; SIGSTOP stalls it exactly) finds every
// packet that arrived meanwhile when it runs again, as long as its frames hold them: here 12000
// arrive while it is stopped, three quarters of its 16384 frames.
TEST_F(XdpCommand, ACaptureThatStallsLosesNothingItsFramesCanHold) {
  constexpr std::uint64_t kCount = 12000;
  bench::TempDir dir("zcopy-xdp-capture");
  const std::string file = dir.path() + "/stalled.pcap";
  Process tool = start({"capture", interface(), "-w", file, "-c", std::to_string(kCount)});
  ASSERT_TRUE(tool.running());
  tool.signal(SIGSTOP);
  ASSERT_TRUE(stopped(tool.pid()));
  ASSERT_EQ(test::send_from(*link_, VethPair::b, kCount, 18), 0);
  tool.signal(SIGCONT);
  ASSERT_EQ(finish(tool), 0) << seen_;
  EXPECT_TRUE(contains(seen_, std::to_string(kCount) + " packets captured\n")) << seen_;
  EXPECT_TRUE(contains(seen_, "0 packets dropped by kernel\n")) << seen_;
}

// Sends `count` sequenced datagrams from side b to side a and waits for each to come back.
int udp_round_trips(const VethPair& link, std::uint32_t count) {
  return link.run_in(VethPair::b, [&] {
    const Fd fd = Fd::adopt(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    timeval limit{.tv_sec = 5, .tv_usec = 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(test::kPort);
    ::inet_pton(AF_INET, link.ip(VethPair::a).c_str(), &to.sin_addr);
    for (std::uint32_t i = 0; i < count; ++i) {
      const auto payload = bench::sequenced_payload(i, kPayload);
      if (::sendto(fd.get(), payload.data(), payload.size(), 0,
                   reinterpret_cast<const sockaddr*>(&to), sizeof to) < 0) {
        return 1;
      }
      std::vector<std::byte> reply(kPayload + 1);
      const ssize_t got = ::recv(fd.get(), reply.data(), reply.size(), 0);
      if (got != static_cast<ssize_t>(kPayload)) return 2;
      reply.resize(kPayload);
      if (reply != payload) return 3;
    }
    return 0;
  });
}

TEST_F(XdpCommand, EchoAnswersPingAndUdpFromTheOtherSide) {
  ZC_REQUIRE_PROGRAM("ping");
  Process tool = start({"echo", interface()});
  EXPECT_EQ(udp_round_trips(*link_, 20), 0) << "1: send, 2: no reply, 3: a wrong reply";
  const bench::RunResult ping = bench::run(link_->exec(
      VethPair::b, {"ping", "-c", "3", "-i", "0.2", "-W", "5", link_->ip(VethPair::a)}));
  EXPECT_EQ(ping.exit_code, 0) << ping.output;
  EXPECT_TRUE(contains(ping.output, "3 received")) << ping.output;
  tool.signal(SIGINT);
  EXPECT_EQ(finish(tool), 0) << seen_;
  EXPECT_TRUE(contains(seen_, "3 icmp-echo, 20 udp")) << seen_;
  EXPECT_FALSE(test::xdp_attached(*link_, VethPair::a));
}

TEST_F(XdpCommand, ForwardBridgesTwoInterfacesFrameForFrame) {
  // A second pair: its side b's end moves into side b of the first, renamed, so that side b
  // holds two interfaces for forward to bridge; the frames end in the second pair's side a.
  VethPair far(bench::VethPairOptions{.second_octet = 219});
  ASSERT_TRUE(far.ok()) << far.why();
  const std::string path = link_->netns_path(VethPair::b);  // "/proc/PID/ns/net"
  const std::string holder = path.substr(6, path.find("/ns/") - 6);
  ASSERT_TRUE(
      far.ip_in(VethPair::b, {"link", "set", "dev", far.name(VethPair::b), "name", "zcf1"}));
  ASSERT_TRUE(far.ip_in(VethPair::b, {"link", "set", "dev", "zcf1", "netns", holder}));
  ASSERT_TRUE(link_->ip_in(VethPair::b, {"link", "set", "dev", "zcf1", "up"}));

  constexpr std::uint64_t kCount = 500;
  std::vector<std::string> count{zc::test::zcopy_tool(), "xdp", "count",
                                 far.name(VethPair::a),  "-c",  std::to_string(kCount)};
  auto counter =
      Process::spawn(far.exec(VethPair::a, count), {.out = Output::pipe, .err = Output::pipe});
  ASSERT_TRUE(counter) << counter.error().message();
  ASSERT_TRUE(counter->read_line(kBound)) << "count did not start";
  std::vector<std::string> forward{zc::test::zcopy_tool(),   "xdp",  "forward",
                                   link_->name(VethPair::b), "--to", "zcf1"};
  auto forwarder =
      Process::spawn(link_->exec(VethPair::b, forward), {.out = Output::pipe, .err = Output::pipe});
  ASSERT_TRUE(forwarder) << forwarder.error().message();
  for (int modes = 0; modes < 2;) {  // one mode line per port
    auto line = forwarder->read_line(kBound);
    ASSERT_TRUE(line) << "forward did not start";
    if (contains(*line, "zcopy xdp: ")) ++modes;
  }

  ASSERT_EQ(test::send_from(*link_, VethPair::a, kCount, kPayload), 0);
  const auto counted = counter->wait_for(kBound);
  const std::string said = counter->read_all();
  ASSERT_TRUE(counted) << "not every frame arrived through forward";
  EXPECT_EQ(counted->code, 0) << said;
  EXPECT_TRUE(contains(said, "rx " + std::to_string(kCount) + " packets")) << said;
  forwarder->signal(SIGTERM);
  const auto stopped = forwarder->wait_for(kBound);
  const std::string report = forwarder->read_all();
  ASSERT_TRUE(stopped);
  EXPECT_EQ(stopped->code, 0) << report;
  EXPECT_TRUE(contains(report, "tx " + std::to_string(kCount))) << report;
}

TEST_F(XdpCommand, AKilledToolLeavesNoProgramBehind) {
  Process tool = start({"count", interface()});
  EXPECT_TRUE(test::xdp_attached(*link_, VethPair::a));
  tool.kill();
  EXPECT_FALSE(test::xdp_attached(*link_, VethPair::a));
  // And the interface takes a new program at once: nothing of the old one is in the way.
  Process again = start({"count", interface(), "-c", "5"});
  ASSERT_EQ(test::send_from(*link_, VethPair::b, 5, kPayload), 0);
  EXPECT_EQ(finish(again), 0) << seen_;
}

TEST_F(XdpCommand, AnInterfaceThatIsNotThereIsAUsageError) {
  const auto run = zc::test::run_command(zc::test::zcopy_tool() + " xdp count zcnosuch0 2>&1");
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_TRUE(contains(run.output, "no interface zcnosuch0")) << run.output;
}

TEST(XdpCommandPrivilege, WithoutPrivilegeItExitsThreeWithOneLine) {
  ZC_REQUIRE_TOOL();
  ZC_REQUIRE_ROOT("to drop to an unprivileged user");
  ZC_REQUIRE_PROGRAM("setpriv");
  const auto run =
      zc::test::run_command("setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all " +
                            zc::test::zcopy_tool() + " xdp count lo 2>&1 >/dev/null");
  EXPECT_EQ(run.exit_code, 3) << run.output;
  EXPECT_EQ(std::count(run.output.begin(), run.output.end(), '\n'), 1) << run.output;
  EXPECT_TRUE(contains(run.output, "AF_XDP")) << run.output;
}

TEST(XdpDoctor, ReportsAfXdpNativeXdpOnVethAndWhyZeroCopyIsOrIsNot) {
  ZC_REQUIRE_TOOL();
  const auto run = zc::test::run_command(zc::test::zcopy_tool() + " doctor --json");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  for (const char* id : {"af_xdp", "xdp_native_veth", "af_xdp_zero_copy"}) {
    EXPECT_TRUE(contains(run.output, std::string("\"capability\":\"") + id + "\"")) << run.output;
  }
  // Whatever the machine, the zero-copy line says what veth answered when asked.
  const std::size_t at = run.output.find("\"capability\":\"af_xdp_zero_copy\"");
  ASSERT_NE(at, std::string::npos);
  const std::string line = run.output.substr(at, run.output.find('\n', at) - at);
  if (probe(Capability::xdp_native_veth).available) {
    EXPECT_TRUE(contains(line, "veth")) << line;
  }
}

}  // namespace
}  // namespace zc::xdp

namespace zc::xdp {
namespace {

// The xdp-receive record of `method` in the bench's JSON lines; empty when there is none.
std::string receive_record(const std::string& output, const char* method) {
  const std::string key = std::string("\"bench\":\"xdp-receive\",\"method\":\"") + method + "\"";
  const std::size_t at = output.find(key);
  if (at == std::string::npos) return {};
  return output.substr(at, output.find('\n', at) - at);
}

TEST(XdpBenchCommand, MeasuresEveryMethodOnTheSameTrafficAndTheStarvation) {
  ZC_REQUIRE_TOOL();
  ZC_REQUIRE_XDP_ON_VETH();
  const auto run = zc::test::run_command(zc::test::zcopy_tool() +
                                         " xdp bench --json --rounds 1 --seconds 0.2 "
                                         "--stall-ms 50 --no-capture 2>&1");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  for (const char* method : {"af_xdp", "af_packet", "recvmmsg"}) {
    const std::string record = receive_record(run.output, method);
    ASSERT_FALSE(record.empty()) << run.output;
    const auto mpps = bench::number_field(record, "mpps");
    ASSERT_TRUE(mpps) << record;
    EXPECT_GT(*mpps, 0) << record;  // the traffic reached every receiver
    EXPECT_TRUE(bench::number_field(record, "cpu_ns_per_packet")) << record;
  }
  // Three UMEM sizes starved; the smallest runs out of frames and drops.
  std::size_t starved = 0;
  for (std::size_t at = 0;
       (at = run.output.find("\"bench\":\"xdp-starvation\"", at)) != std::string::npos; ++at) {
    ++starved;
  }
  EXPECT_EQ(starved, 3u) << run.output;
  const std::size_t small = run.output.find("\"umem_frames\":1024");
  ASSERT_NE(small, std::string::npos) << run.output;
  const std::string record = run.output.substr(small, run.output.find('\n', small) - small);
  EXPECT_GT(bench::number_field(record, "dropped").value_or(0), 0) << record;
}

// With veth's NAPI threaded and its kthread pinned to the receiver's CPU (the bench fails when
// no such thread appears), every receiver still gets the traffic, and the sender says how often
// the receiving side pushed back.
TEST(XdpBenchCommand, WithTheNapiThreadEveryReceiverStillGetsTheTraffic) {
  ZC_REQUIRE_TOOL();
  ZC_REQUIRE_XDP_ON_VETH();
  const auto run = zc::test::run_command(zc::test::zcopy_tool() +
                                         " xdp bench --json --rounds 1 --seconds 0.2 "
                                         "--napi-thread --no-starvation --no-capture 2>&1");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  for (const char* method : {"af_xdp", "af_packet", "recvmmsg"}) {
    const std::string record = receive_record(run.output, method);
    ASSERT_FALSE(record.empty()) << run.output;
    EXPECT_GT(bench::number_field(record, "mpps").value_or(0), 0) << record;
    EXPECT_TRUE(bench::number_field(record, "pushed_back")) << record;
  }
}

TEST(XdpBenchCommand, BadValuesAreUsageErrors) {
  ZC_REQUIRE_TOOL();
  for (const char* args :
       {"--rounds 0", "--size 20", "--stall-ms 1", "--capture-rates x", "--methods pigeon"}) {
    const auto run =
        zc::test::run_command(zc::test::zcopy_tool() + " xdp bench " + args + " 2>&1 >/dev/null");
    EXPECT_EQ(run.exit_code, 2) << args << ": " << run.output;
  }
}

}  // namespace
}  // namespace zc::xdp
