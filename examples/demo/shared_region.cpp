// `zcopy demo` section 2: memory shared between two processes against the same bytes pushed
// through a pipe. The peer gets a read-only descriptor of a sealed memfd and tries, as a hostile
// peer would, to map it writable and to shrink it.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <numeric>
#include <vector>

#include "bench/support/process.hpp"
#include "bench/support/table.hpp"
#include "examples/demo/sections.hpp"
#include "zcopy/core/fd_passing.hpp"
#include "zcopy/core/transfer_ledger.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/mem/region.hpp"

namespace zc::demo {
namespace {

using bench::Table;

std::uint64_t checksum(std::span<const std::byte> bytes) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i + sizeof(std::uint64_t) <= bytes.size(); i += sizeof(std::uint64_t)) {
    std::uint64_t word = 0;
    std::memcpy(&word, bytes.data() + i, sizeof word);
    sum = sum * 31 + word;
  }
  return sum;
}

void fill_pattern(std::span<std::byte> bytes) {
  for (std::size_t i = 0; i + sizeof(std::uint64_t) <= bytes.size(); i += sizeof(std::uint64_t)) {
    const std::uint64_t word = i * 0x9e3779b97f4a7c15ULL;
    std::memcpy(bytes.data() + i, &word, sizeof word);
  }
}

// What the peer process reports back about the region it was handed.
struct PeerReport {
  std::uint64_t checksum;
  int writable_mapping_errno;  // errno of mmap(PROT_WRITE) on the read-only descriptor
  int truncate_errno;          // errno of ftruncate on the sealed memfd
};

int peer_reads_shared_region(UnixSocket& socket) {
  auto message = socket.receive(PeerPolicy{});
  if (!message || message->fds.size() != 1) return 2;
  // Behave like a hostile peer of the same user: reopen the descriptor for writing (the file mode
  // cannot stop that), then try to map it writable and to shrink it. The seals must refuse both.
  const std::string path = "/proc/self/fd/" + std::to_string(message->fds[0].get());
  auto reopened = Fd::open(path, O_RDWR);
  PeerReport report{};
  if (reopened) {
    void* writable = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, reopened->get(), 0);
    report.writable_mapping_errno = writable == MAP_FAILED ? errno : 0;
    report.truncate_errno = ::ftruncate(reopened->get(), 0) != 0 ? errno : 0;
  } else {
    report.writable_mapping_errno = reopened.error().sys_errno();
    report.truncate_errno = reopened.error().sys_errno();
  }
  auto view = Region::attach(std::move(message->fds[0]), Access::read_only);
  if (!view) return 3;
  report.checksum = checksum(view->bytes());
  if (!socket.send(std::as_bytes(std::span(&report, 1)))) return 4;
  return 0;
}

int peer_reads_pipe(int read_fd, int reply_fd, std::size_t size) {
  std::vector<std::byte> buffer(size);
  std::size_t received = 0;
  while (received < size) {
    const ssize_t n = ::read(read_fd, buffer.data() + received, size - received);
    if (n <= 0) return 2;
    received += static_cast<std::size_t>(n);
  }
  const std::uint64_t sum = checksum(buffer);
  return ::write(reply_fd, &sum, sizeof sum) == sizeof sum ? 0 : 3;
}

std::string errno_name(int value) {
  if (value == 0) return "allowed";
  const char* name = strerrorname_np(value);
  return std::string("refused (") + (name != nullptr ? name : std::to_string(value)) + ")";
}

}  // namespace

Result<void> demo_shared_region(const DemoSettings& settings) {
  const std::size_t size = settings.size_bytes;
  demo_heading(2, "Memory shared between processes",
               "A child gets a read-only descriptor of a sealed memfd and reads the parent's bytes "
               "in place;\n   the baseline pushes the same bytes through a pipe.");
  auto region = Region::create_shared(size, {.name = "zcopy-demo"});
  if (!region) return std::unexpected(region.error());
  fill_pattern(region->bytes());
  const std::uint64_t expected = checksum(region->bytes());

  // Zero-copy: only a descriptor crosses the process boundary.
  auto sockets = UnixSocket::pair();
  if (!sockets) return std::unexpected(sockets.error());
  const CpuStopwatch shared_clock;
  auto child = bench::Process::fork([&] { return peer_reads_shared_region(sockets->second); });
  if (!child) return std::unexpected(child.error());
  auto fd = region->share(Access::read_only);
  if (!fd) return std::unexpected(fd.error());
  const int fds[] = {fd->get()};
  if (auto sent = sockets->first.send({}, fds); !sent) return std::unexpected(sent.error());
  auto reply = sockets->first.receive(PeerPolicy{});
  if (!reply) return std::unexpected(reply.error());
  const double shared_ns = shared_clock.wall_s() * 1e9;
  if (auto done = child->expect_success("shared-region peer"); !done)
    return std::unexpected(done.error());
  PeerReport report{};
  if (reply->payload.size() != sizeof report)
    return fail(Errc::corrupt, "shared-region peer", "reply has the wrong size");
  std::memcpy(&report, reply->payload.data(), sizeof report);

  // Baseline: write into a pipe, read out of it: two copies of every byte.
  auto data_pipe = make_pipe();
  auto reply_pipe = make_pipe();
  if (!data_pipe || !reply_pipe) return fail(Errc::system, "pipe", "cannot create pipes");
  const CpuStopwatch pipe_clock;
  auto pipe_child = bench::Process::fork([&] {
    data_pipe->write_end.reset();
    return peer_reads_pipe(data_pipe->read_end.get(), reply_pipe->write_end.get(), size);
  });
  if (!pipe_child) return std::unexpected(pipe_child.error());
  data_pipe->read_end.reset();
  for (std::size_t sent = 0; sent < size;) {
    const ssize_t n = ::write(data_pipe->write_end.get(), region->data() + sent, size - sent);
    if (n <= 0) return fail_errno(errno, "write(pipe)");
    sent += static_cast<std::size_t>(n);
  }
  std::uint64_t pipe_sum = 0;
  if (::read(reply_pipe->read_end.get(), &pipe_sum, sizeof pipe_sum) != sizeof pipe_sum)
    return fail(Errc::closed, "pipe peer", "no checksum came back");
  const double pipe_ns = pipe_clock.wall_s() * 1e9;
  if (auto done = pipe_child->expect_success("pipe peer"); !done)
    return std::unexpected(done.error());

  if (report.checksum != expected || pipe_sum != expected)
    return fail(Errc::corrupt, "shared-region demo",
                "a peer read different bytes than were written");

  Table table({"method", "bytes", "time", "bytes copied by a CPU", "peer's checksum"});
  table.add_row({"shared memfd, read in place", format_bytes(size), format_nanos(shared_ns), "0 B",
                 "matches"});
  table.add_row({"pipe (write + read)", format_bytes(size), format_nanos(pipe_ns),
                 format_bytes(2 * size) + " (in and out)", "matches"});
  table.print(stdout);
  std::printf(
      "\n   The peer reopened its descriptor read-write; a writable mapping was then %s and\n"
      "   shrinking the memfd %s: the memfd is sealed.\n",
      errno_name(report.writable_mapping_errno).c_str(), errno_name(report.truncate_errno).c_str());
  if (report.writable_mapping_errno == 0 || report.truncate_errno == 0)
    return fail(Errc::rejected, "shared-region demo",
                "the kernel let a read-only peer modify the region");
  return {};
}

}  // namespace zc::demo
