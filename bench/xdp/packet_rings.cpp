#include "bench/xdp/packet_rings.hpp"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <cstring>
#include <thread>
#include <utility>

#include "zcopy/core/syscall.hpp"

namespace zc::bench {
namespace {

// TX ring: 16 blocks of 64 KiB, frames of 2 KiB (512 frames).
constexpr std::uint32_t kTxBlock = 1u << 16;
constexpr std::uint32_t kTxBlocks = 16;
constexpr std::uint32_t kTxFrame = 2048;
constexpr std::uint32_t kTxFrames = kTxBlock / kTxFrame * kTxBlocks;
constexpr std::uint32_t kTxBatch = 64;
// RX ring: 64 blocks of 256 KiB (16 MiB, as much as the AF_XDP UMEM), retired after 10 ms.
constexpr std::uint32_t kRxBlock = 1u << 18;
constexpr std::uint32_t kRxBlocks = 64;

Result<Fd> packet_socket(int protocol) {
  auto fd = sys_call("socket(AF_PACKET)",
                     [&] { return ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, protocol); });
  if (!fd) return std::unexpected(fd.error());
  return Fd::adopt(*fd);
}

template <class T>
Result<void> set_option(const Fd& fd, int name, const T& value, const char* what) {
  auto r = sys_call({what, fd.get()},
                    [&] { return ::setsockopt(fd.get(), SOL_PACKET, name, &value, sizeof value); });
  if (!r) return std::unexpected(r.error());
  return {};
}

Result<RingMapping> map_ring(const Fd& fd, std::size_t size) {
  void* data = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (data == MAP_FAILED) return fail_errno(errno, "mmap(packet ring)");
  return RingMapping(data, size);
}

Result<void> bind_to(const Fd& fd, const std::string& interface, std::uint16_t protocol) {
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  address.sll_protocol = htons(protocol);
  address.sll_ifindex = static_cast<int>(::if_nametoindex(interface.c_str()));
  if (address.sll_ifindex == 0) return fail_errno(errno, "if_nametoindex", interface);
  auto r = sys_call({"bind(AF_PACKET)", fd.get()}, [&] {
    return ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address);
  });
  if (!r) return std::unexpected(r.error());
  return {};
}

}  // namespace

RingMapping::RingMapping(RingMapping&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

RingMapping& RingMapping::operator=(RingMapping&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) ::munmap(data_, size_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

RingMapping::~RingMapping() {
  if (data_ != nullptr) ::munmap(data_, size_);
}

Result<PacketTxRing> PacketTxRing::open(const std::string& interface) {
  auto fd = packet_socket(0);  // protocol 0: this socket receives nothing
  if (!fd) return std::unexpected(fd.error());
  if (auto r = set_option(*fd, PACKET_VERSION, int{TPACKET_V2}, "PACKET_VERSION"); !r) {
    return std::unexpected(r.error());
  }
  // Straight to the driver: the qdisc would only queue and count.
  if (auto r = set_option(*fd, PACKET_QDISC_BYPASS, int{1}, "PACKET_QDISC_BYPASS"); !r) {
    return std::unexpected(r.error());
  }
  tpacket_req request{};
  request.tp_block_size = kTxBlock;
  request.tp_block_nr = kTxBlocks;
  request.tp_frame_size = kTxFrame;
  request.tp_frame_nr = kTxFrames;
  if (auto r = set_option(*fd, PACKET_TX_RING, request, "PACKET_TX_RING"); !r) {
    return std::unexpected(r.error());
  }
  auto ring = map_ring(*fd, std::size_t{kTxBlock} * kTxBlocks);
  if (!ring) return std::unexpected(ring.error());
  if (auto r = bind_to(*fd, interface, ETH_P_IP); !r) return std::unexpected(r.error());
  PacketTxRing tx;
  tx.fd_ = std::move(*fd);
  tx.ring_ = std::move(*ring);
  return tx;
}

Result<SendResult> PacketTxRing::send_for(std::span<const std::byte> frame,
                                          std::chrono::duration<double> duration, double pps,
                                          std::uint64_t limit) {
  // Where a TPACKET_V2 slot's frame begins: the header, aligned to TPACKET_ALIGNMENT.
  constexpr std::size_t kData =
      (sizeof(tpacket2_hdr) + TPACKET_ALIGNMENT - 1) / TPACKET_ALIGNMENT * TPACKET_ALIGNMENT;
  if (frame.size() + kData > kTxFrame) {
    return fail(Errc::invalid_argument, "PacketTxRing::send_for", "frame too long");
  }
  // Every slot holds the same frame: written once, only the status changes hands afterwards.
  for (std::uint32_t i = 0; i < kTxFrames; ++i) {
    std::byte* slot = ring_.data() + std::size_t{i} * kTxFrame;
    std::memcpy(slot + kData, frame.data(), frame.size());
    reinterpret_cast<tpacket2_hdr*>(slot)->tp_len = static_cast<std::uint32_t>(frame.size());
  }
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(duration);
  SendResult result;
  std::uint32_t next = 0;
  for (auto now = start; now < end && (limit == 0 || result.sent < limit); now = Clock::now()) {
    if (pps > 0) {
      const double due = pps * std::chrono::duration<double>(now - start).count();
      if (static_cast<double>(result.sent) >= due) {
        std::this_thread::sleep_for(std::chrono::microseconds(20));
        continue;
      }
    }
    std::uint32_t batch = 0;
    while (batch < kTxBatch && (limit == 0 || result.sent + batch < limit)) {
      auto* header = reinterpret_cast<tpacket2_hdr*>(ring_.data() + std::size_t{next} * kTxFrame);
      // The kernel owns a slot until it stores TP_STATUS_AVAILABLE (acquire: our next write to
      // the slot comes after its read of it).
      if (__atomic_load_n(&header->tp_status, __ATOMIC_ACQUIRE) != TP_STATUS_AVAILABLE) break;
      __atomic_store_n(&header->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
      next = (next + 1) % kTxFrames;
      ++batch;
    }
    // Blocking: returns once the driver has taken every requested slot.
    ++result.calls;
    if (::send(fd_.get(), nullptr, 0, 0) < 0) {
      if (errno == ENOBUFS) {
        ++result.pushed_back;
      } else if (errno != EAGAIN) {
        return fail_errno(errno, "send(PACKET_TX_RING)");
      }
    }
    result.sent += batch;
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

Result<PacketRxRing> PacketRxRing::open(const std::string& interface) {
  auto fd = packet_socket(htons(ETH_P_ALL));
  if (!fd) return std::unexpected(fd.error());
  if (auto r = set_option(*fd, PACKET_VERSION, int{TPACKET_V3}, "PACKET_VERSION"); !r) {
    return std::unexpected(r.error());
  }
  tpacket_req3 request{};
  request.tp_block_size = kRxBlock;
  request.tp_block_nr = kRxBlocks;
  request.tp_frame_size = 2048;
  request.tp_frame_nr = kRxBlock / 2048 * kRxBlocks;
  request.tp_retire_blk_tov = 10;  // ms: a block half full is handed over after this
  if (auto r = set_option(*fd, PACKET_RX_RING, request, "PACKET_RX_RING"); !r) {
    return std::unexpected(r.error());
  }
  auto ring = map_ring(*fd, std::size_t{kRxBlock} * kRxBlocks);
  if (!ring) return std::unexpected(ring.error());
  if (auto r = bind_to(*fd, interface, ETH_P_ALL); !r) return std::unexpected(r.error());
  PacketRxRing rx;
  rx.fd_ = std::move(*fd);
  rx.ring_ = std::move(*ring);
  return rx;
}

std::uint64_t PacketRxRing::drain(std::chrono::milliseconds timeout) {
  std::uint64_t packets = 0;
  for (;;) {
    auto* block =
        reinterpret_cast<tpacket_block_desc*>(ring_.data() + std::size_t{block_} * kRxBlock);
    // The kernel sets TP_STATUS_USER last when it retires a block (acquire: the packets in it
    // are visible once the status is).
    if ((__atomic_load_n(&block->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) == 0) {
      if (packets > 0) return packets;
      pollfd p{fd_.get(), POLLIN | POLLERR, 0};
      if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return 0;
      timeout = std::chrono::milliseconds(0);
      continue;
    }
    // Walk the packets as a consumer would, header to header.
    const std::uint32_t count = block->hdr.bh1.num_pkts;
    auto* packet = reinterpret_cast<std::byte*>(block) + block->hdr.bh1.offset_to_first_pkt;
    for (std::uint32_t i = 0; i < count; ++i) {
      packet += reinterpret_cast<tpacket3_hdr*>(packet)->tp_next_offset;
    }
    packets += count;
    // Release: the kernel may fill the block again once it sees TP_STATUS_KERNEL.
    __atomic_store_n(&block->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    block_ = (block_ + 1) % kRxBlocks;
  }
}

std::uint64_t PacketRxRing::dropped() {
  tpacket_stats_v3 stats{};
  socklen_t size = sizeof stats;
  if (::getsockopt(fd_.get(), SOL_PACKET, PACKET_STATISTICS, &stats, &size) != 0) return 0;
  return stats.tp_drops;
}

}  // namespace zc::bench
