// zcopy/xdp/pcap_writer.hpp: received frames written as a standard pcap file, straight from the
// UMEM.
//
// Each record is a 16-byte header of ours followed by the packet's bytes where the kernel put
// them: one writev per batch gathers headers and frames, so packets reach the file (the kernel
// copying them once, into the page cache) without passing through a buffer of this process. The
// format is classic libpcap (magic a1b2c3d4, version 2.4, microsecond timestamps, link type 1 =
// Ethernet), which tcpdump -r, tshark -r and every pcap library read.
//
//   auto pcap = zc::xdp::PcapWriter::create("out.pcap", {.snaplen = 128});
//   const std::size_t n = socket.receive(batch);
//   pcap->write(std::span(batch).first(n));   // then drop the frames
//
// A failed write leaves no half record behind in a regular file: the file is cut back to the
// last whole record, and the error says how many packets it holds.
//
// Synchronization: one thread at a time.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <ctime>
#include <span>
#include <string>

#include "zcopy/core/error.hpp"
#include "zcopy/core/fd.hpp"
#include "zcopy/xdp/frame.hpp"

namespace zc::xdp {

struct PcapOptions {
  // Bytes kept of each packet (the rest is counted in the record's original length only).
  std::uint32_t snaplen = 262144;
};

class PcapWriter {
 public:
  static constexpr std::uint32_t kMaxSnaplen = 262144;
  static constexpr std::size_t kRecordsPerWrite = 512;  // two iovecs each, within IOV_MAX
  // Creates (or truncates) `path` and writes the file header.
  static Result<PcapWriter> create(const std::string& path, const PcapOptions& options = {});
  // Writes to a descriptor already open for writing (a pipe, stdout): the header first.
  static Result<PcapWriter> adopt(Fd fd, const PcapOptions& options = {});

  PcapWriter(PcapWriter&&) noexcept = default;
  PcapWriter& operator=(PcapWriter&&) noexcept = default;

  // One record per valid frame, stamped `when` (the batch's arrival), in one writev per
  // kRecordsPerWrite.
  Result<void> write(std::span<const Frame> frames, const timespec& when);
  // The same, stamped with the realtime clock now.
  Result<void> write(std::span<const Frame> frames);

  std::uint64_t packets() const noexcept { return packets_; }
  std::uint64_t file_bytes() const noexcept { return bytes_; }

 private:
  PcapWriter(Fd fd, std::string name, std::uint32_t snaplen) noexcept
      : fd_(std::move(fd)), name_(std::move(name)), snaplen_(snaplen) {}
  Result<void> write_header();
  // Writes every byte of `iov` (count entries), retrying short writes.
  Result<void> write_all(iovec* iov, int count);

  Fd fd_;
  std::string name_;  // for messages
  std::uint32_t snaplen_;
  std::uint64_t packets_ = 0;
  std::uint64_t bytes_ = 0;  // whole records and the header, as written so far
};

}  // namespace zc::xdp
