// The pcap writer, read back by the real readers: tcpdump -r and tshark -r see every packet,
// byte for byte, cut at the snaplen with the wire length kept; a write that fails halfway leaves
// a file of whole records.
#include "zcopy/xdp/pcap_writer.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cstring>

#include "bench/support/data.hpp"
#include "support/capability_gate.hpp"
#include "xdp_test_support.hpp"
#include "zcopy/xdp/umem.hpp"

namespace zc::xdp {
namespace {

constexpr std::size_t kPayload = 200;

// `count` frames of `umem` holding datagrams 0..count-1.
std::vector<Frame> datagram_frames(Umem& umem, std::uint32_t count) {
  bench::UdpFlow flow;
  flow.source_mac = {2, 0, 0, 0, 0, 1};
  flow.destination_mac = {2, 0, 0, 0, 0, 2};
  flow.source_ip = "10.9.0.1";
  flow.destination_ip = "10.9.0.2";
  flow.source_port = 4000;
  flow.destination_port = 9000;
  std::vector<Frame> frames;
  for (std::uint32_t i = 0; i < count; ++i) {
    const auto bytes = bench::udp_frame(flow, bench::sequenced_payload(i, kPayload));
    auto frame = umem.allocate();
    if (!frame || !frame->resize(static_cast<std::uint32_t>(bytes.size()))) return {};
    std::memcpy(frame->data().data(), bytes.data(), bytes.size());
    frames.push_back(std::move(*frame));
  }
  return frames;
}

class XdpPcapWriter : public ::testing::Test {
 protected:
  void SetUp() override {
    ZC_REQUIRE_CAPABILITY(Capability::af_xdp);
    ZC_REQUIRE_PROGRAM("tcpdump");
    ZC_REQUIRE_PROGRAM("tshark");
    auto umem = Umem::create({.frame_count = 256, .fill_ring_size = 64});
    ASSERT_TRUE(umem) << umem.error().message();
    umem_ = std::make_unique<Umem>(std::move(*umem));
    ASSERT_FALSE(dir_.path().empty());
  }
  std::string file(const char* name) const { return dir_.path() + "/" + name; }

  std::unique_ptr<Umem> umem_;
  bench::TempDir dir_{"zcopy-pcap"};
};

TEST_F(XdpPcapWriter, TcpdumpAndTsharkReadEveryPacketByteForByte) {
  constexpr std::uint32_t kCount = 100;
  const std::vector<Frame> frames = datagram_frames(*umem_, kCount);
  ASSERT_EQ(frames.size(), kCount);
  auto pcap = PcapWriter::create(file("all.pcap"));
  ASSERT_TRUE(pcap) << pcap.error().message();
  // In two batches, as a capture loop writes them.
  ASSERT_TRUE(pcap->write(std::span(frames).first(30)));
  ASSERT_TRUE(pcap->write(std::span(frames).subspan(30)));
  EXPECT_EQ(pcap->packets(), kCount);

  const auto dumped = test::read_with_tcpdump(file("all.pcap"));
  ASSERT_TRUE(dumped) << "tcpdump -r failed";
  ASSERT_EQ(dumped->size(), kCount);
  for (std::uint32_t i = 0; i < kCount; ++i) {
    const auto expected = frames[i].data();
    ASSERT_EQ((*dumped)[i].bytes.size(), expected.size()) << "packet " << i;
    EXPECT_EQ(std::memcmp((*dumped)[i].bytes.data(), expected.data(), expected.size()), 0);
    EXPECT_EQ(bench::sequence_of(bench::udp_payload_of((*dumped)[i].bytes)), i);
  }

  const auto read = test::read_with_tshark(file("all.pcap"));
  ASSERT_TRUE(read) << "tshark -r failed";
  ASSERT_EQ(read->size(), kCount);
  for (std::uint32_t i = 0; i < kCount; ++i) {
    EXPECT_EQ((*read)[i].length, frames[i].size());
    EXPECT_EQ((*read)[i].captured, frames[i].size());
    EXPECT_EQ(bench::sequence_of((*read)[i].udp_payload), i);
  }
  struct stat st {};
  ASSERT_EQ(::stat(file("all.pcap").c_str(), &st), 0);
  EXPECT_EQ(static_cast<std::uint64_t>(st.st_size), pcap->file_bytes());
}

TEST_F(XdpPcapWriter, TheSnaplenCutsPacketsAndKeepsTheirWireLength) {
  const std::vector<Frame> frames = datagram_frames(*umem_, 5);
  auto pcap = PcapWriter::create(file("cut.pcap"), {.snaplen = 60});
  ASSERT_TRUE(pcap) << pcap.error().message();
  ASSERT_TRUE(pcap->write(frames));
  const auto read = test::read_with_tshark(file("cut.pcap"));
  ASSERT_TRUE(read);
  ASSERT_EQ(read->size(), 5u);
  for (const auto& p : *read) {
    EXPECT_EQ(p.captured, 60u);
    EXPECT_EQ(p.length, 14u + 20 + 8 + kPayload);
  }
  EXPECT_FALSE(PcapWriter::create(file("zero.pcap"), {.snaplen = 0}));
}

TEST_F(XdpPcapWriter, AWriteThatFailsHalfwayLeavesOnlyWholeRecords) {
  const std::vector<Frame> frames = datagram_frames(*umem_, 10);
  const std::string path = file("full.pcap");
  // A file size limit in a child: the writev is cut short inside the fourth record, the next
  // write fails with EFBIG.
  const int code = bench::run_in_child([&] {
    ::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{24 + 3 * (16 + 242) + 100, RLIM_INFINITY};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) return 10;
    auto pcap = PcapWriter::create(path);
    if (!pcap) return 11;
    auto written = pcap->write(frames);
    if (written) return 12;
    std::fprintf(stderr, "%s\n", written.error().message().c_str());
    if (written.error().message().find("holds 0 whole packets") == std::string::npos) return 13;
    return 0;
  });
  ASSERT_EQ(code, 0);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 24) << "cut back to the header: the batch was one writev";
  const auto dumped = test::read_with_tcpdump(path);
  ASSERT_TRUE(dumped) << "the cut file must still read";
  EXPECT_EQ(dumped->size(), 0u);
}

}  // namespace
}  // namespace zc::xdp
