// PcapWriter: the libpcap file format written with writev from the frames themselves.
#include "zcopy/xdp/pcap_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>

#include "zcopy/core/syscall.hpp"

namespace zc::xdp {
namespace {

// https://www.tcpdump.org/manpages/pcap-savefile.5.html, in host byte order (the magic says
// which).
struct FileHeader {
  std::uint32_t magic = 0xa1b2c3d4;  // microsecond timestamps
  std::uint16_t version_major = 2;
  std::uint16_t version_minor = 4;
  std::int32_t this_zone = 0;
  std::uint32_t sigfigs = 0;
  std::uint32_t snaplen = 0;
  std::uint32_t link_type = 1;  // LINKTYPE_ETHERNET
};
static_assert(sizeof(FileHeader) == 24);

struct RecordHeader {
  std::uint32_t seconds;
  std::uint32_t microseconds;
  std::uint32_t captured_length;
  std::uint32_t original_length;
};
static_assert(sizeof(RecordHeader) == 16);

Result<void> check(const PcapOptions& options) {
  if (options.snaplen == 0 || options.snaplen > PcapWriter::kMaxSnaplen) {
    return fail(Errc::invalid_argument, "pcap snaplen",
                std::to_string(options.snaplen) + " outside [1, " +
                    std::to_string(PcapWriter::kMaxSnaplen) + "]");
  }
  return {};
}

}  // namespace

Result<PcapWriter> PcapWriter::create(const std::string& path, const PcapOptions& options) {
  if (auto ok = check(options); !ok) return std::unexpected(ok.error());
  auto fd = Fd::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (!fd) return std::unexpected(fd.error());
  PcapWriter writer(std::move(*fd), path, options.snaplen);
  if (auto header = writer.write_header(); !header) return std::unexpected(header.error());
  return writer;
}

Result<PcapWriter> PcapWriter::adopt(Fd fd, const PcapOptions& options) {
  if (auto ok = check(options); !ok) return std::unexpected(ok.error());
  const std::string name = "fd " + std::to_string(fd.get());
  PcapWriter writer(std::move(fd), name, options.snaplen);
  if (auto header = writer.write_header(); !header) return std::unexpected(header.error());
  return writer;
}

Result<void> PcapWriter::write_header() {
  FileHeader header;
  header.snaplen = snaplen_;
  iovec iov{&header, sizeof header};
  if (auto written = write_all(&iov, 1); !written) return written;
  bytes_ = sizeof header;
  return {};
}

Result<void> PcapWriter::write_all(iovec* iov, int count) {
  while (count > 0) {
    auto n = sys_call({"writev", fd_.get()}, [&] { return ::writev(fd_.get(), iov, count); });
    if (!n) return std::unexpected(n.error());
    auto left = static_cast<std::size_t>(*n);
    while (count > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --count;
    }
    if (count > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return {};
}

Result<void> PcapWriter::write(std::span<const Frame> frames, const timespec& when) {
  std::array<RecordHeader, kRecordsPerWrite> headers;
  std::array<iovec, 2 * kRecordsPerWrite> iov;
  while (!frames.empty()) {
    // The kernel wrote each packet from another CPU into a frame of its own, one page apart:
    // copied in order, every packet would be a serial cache and TLB miss inside writev. Touching
    // them all first lets the misses overlap.
    for (std::size_t i = 0; i < std::min(frames.size(), kRecordsPerWrite); ++i) {
      if (frames[i].valid()) __builtin_prefetch(frames[i].data().data());
    }
    std::size_t records = 0;
    std::size_t taken = 0;
    std::uint64_t batch_bytes = 0;
    for (; taken < frames.size() && records < kRecordsPerWrite; ++taken) {
      const Frame& frame = frames[taken];
      if (!frame.valid()) continue;
      const std::uint32_t kept = std::min(frame.size(), snaplen_);
      headers[records] = {static_cast<std::uint32_t>(when.tv_sec),
                          static_cast<std::uint32_t>(when.tv_nsec / 1000), kept, frame.size()};
      // The packet's bytes are handed to the kernel where they lie in the UMEM.
      iov[2 * records] = {&headers[records], sizeof(RecordHeader)};
      iov[2 * records + 1] = {frame.data().data(), kept};
      batch_bytes += sizeof(RecordHeader) + kept;
      ++records;
    }
    if (records > 0) {
      if (auto written = write_all(iov.data(), static_cast<int>(2 * records)); !written) {
        // Cut a regular file back to its last whole record, so what is there is a good capture.
        struct stat st {};
        std::string kept = "the file holds " + std::to_string(packets_) + " whole packets";
        if (::fstat(fd_.get(), &st) == 0 && S_ISREG(st.st_mode) &&
            (::ftruncate(fd_.get(), static_cast<off_t>(bytes_)) != 0 ||
             ::lseek(fd_.get(), static_cast<off_t>(bytes_), SEEK_SET) < 0)) {
          kept = "and could not be cut back to its " + std::to_string(packets_) + " whole packets";
        }
        return std::unexpected(
            std::move(written.error()).with_context("pcap " + name_ + " (" + kept + ")"));
      }
      packets_ += records;
      bytes_ += batch_bytes;
    }
    frames = frames.subspan(taken);
  }
  return {};
}

Result<void> PcapWriter::write(std::span<const Frame> frames) {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return write(frames, now);
}

}  // namespace zc::xdp
