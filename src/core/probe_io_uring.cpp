// io_uring probes: can a ring be set up, which operations does the kernel know, can buffers be
// registered. They ask the kernel directly (io_uring_setup and io_uring_register), so core needs
// no liburing: a program that links only zcopy::core builds where liburing-dev is missing. The
// modules that submit work through io_uring use liburing.
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <string>
#include <vector>

#include "probe_support.hpp"

namespace zc::probes {
namespace {

constexpr unsigned kProbeRingEntries = 4;

// A ring that exists only for the probe: the descriptor io_uring_setup returns. Nothing is
// submitted, so its queues are never mapped.
struct ProbeRing {
  Fd fd;
  io_uring_params params{};

  // 0 on success, -errno on failure.
  int set_up() {
    const long rc = ::syscall(__NR_io_uring_setup, kProbeRingEntries, &params);
    if (rc < 0) return -errno;
    fd = Fd::adopt(static_cast<int>(rc));
    return 0;
  }
  // io_uring_register(2); 0 or a non-negative result on success, -errno on failure.
  int register_(unsigned opcode, void* argument, unsigned count) const {
    const long rc = ::syscall(__NR_io_uring_register, fd.get(), opcode, argument, count);
    return rc < 0 ? -errno : static_cast<int>(rc);
  }
};

// Why io_uring_setup failed, naming the switch that turned it off when there is one.
std::string setup_failure(int errno_value) {
  if (errno_value == ENOSYS) {
    return "kernel built without io_uring (CONFIG_IO_URING): io_uring_setup " +
           errno_text(errno_value);
  }
  if (errno_value == EPERM) {
    constexpr const char* kSysctl = "/proc/sys/kernel/io_uring_disabled";
    auto value = read_first_line(kSysctl);
    if (value && *value == "2") return "io_uring disabled: kernel.io_uring_disabled = 2";
    if (value && *value == "1") {
      return "io_uring disabled for this process: kernel.io_uring_disabled = 1 (allowed only "
             "with CAP_SYS_ADMIN or in kernel.io_uring_group)";
    }
    if (value) {
      return "io_uring_setup refused " + errno_text(errno_value) +
             " although kernel.io_uring_disabled = " + *value +
             ": a seccomp filter or LSM blocks it";
    }
    return "io_uring_setup refused " + errno_text(errno_value) +
           " and kernel.io_uring_disabled is unreadable: " + value.error().message();
  }
  return "io_uring_setup: " + errno_text(errno_value);
}

struct OpcodeInfo {
  int opcode;
  const char* name;
  const char* since;
};

OpcodeInfo opcode_info(Capability capability) {
  switch (capability) {
    case Capability::io_uring_send_zc:
      return {IORING_OP_SEND_ZC, "IORING_OP_SEND_ZC", "6.0"};
    case Capability::io_uring_sendmsg_zc:
      return {IORING_OP_SENDMSG_ZC, "IORING_OP_SENDMSG_ZC", "6.1"};
    default:
      return {IORING_OP_SPLICE, "IORING_OP_SPLICE", "5.7"};
  }
}

// The kernel's table of the operations it knows (IORING_REGISTER_PROBE), or empty before 5.6.
std::vector<io_uring_probe_op> known_operations(const ProbeRing& ring) {
  constexpr unsigned kOps = 256;
  std::vector<std::byte> table(sizeof(io_uring_probe) + kOps * sizeof(io_uring_probe_op));
  auto* probe = reinterpret_cast<io_uring_probe*>(table.data());
  if (ring.register_(IORING_REGISTER_PROBE, probe, kOps) < 0) return {};
  return {probe->ops, probe->ops + std::min<unsigned>(probe->ops_len, kOps)};
}

}  // namespace

Finding io_uring() {
  ProbeRing ring;
  if (const int rc = ring.set_up(); rc < 0) return lacking(setup_failure(-rc));
  auto kernel = kernel_version();
  char features[16];
  const auto printed =
      std::to_chars(features, features + sizeof features, ring.params.features, 16);
  return found("ring set up (kernel " + (kernel ? kernel->release : std::string("?")) +
               ", features 0x" + std::string(features, printed.ptr) + ")");
}

Finding io_uring_opcode(Capability capability) {
  const OpcodeInfo info = opcode_info(capability);
  ProbeRing ring;
  if (const int rc = ring.set_up(); rc < 0) return lacking("needs io_uring: " + setup_failure(-rc));
  const std::vector<io_uring_probe_op> known = known_operations(ring);
  if (known.empty()) return lacking("IORING_REGISTER_PROBE failed: kernel older than 5.6");
  const auto opcode = static_cast<std::size_t>(info.opcode);
  if (opcode >= known.size() || (known[opcode].flags & IO_URING_OP_SUPPORTED) == 0) {
    return lacking(std::string("kernel does not support ") + info.name + " (added in Linux " +
                   info.since + ")");
  }
  return found(std::string(info.name) + " supported");
}

Finding io_uring_fixed_buffers() {
  ProbeRing ring;
  if (const int rc = ring.set_up(); rc < 0) return lacking("needs io_uring: " + setup_failure(-rc));
  const std::size_t length = page_size();
  auto page = ScratchMapping::create(length);
  if (!page) return lacking(page.error().message());
  // Registration pins the page and charges it to RLIMIT_MEMLOCK: the step that fails where fixed
  // buffers cannot be used. The senders that submit with them fall back on their own errors.
  iovec buffer{page->data(), length};
  if (const int rc = ring.register_(IORING_REGISTER_BUFFERS, &buffer, 1); rc < 0) {
    std::string why = "IORING_REGISTER_BUFFERS(1 page): " + errno_text(-rc);
    if (rc == -ENOMEM) why += " (pinned pages count against RLIMIT_MEMLOCK)";
    return lacking(why);
  }
  if (const int rc = ring.register_(IORING_UNREGISTER_BUFFERS, nullptr, 0); rc < 0) {
    return lacking("IORING_UNREGISTER_BUFFERS: " + errno_text(-rc));
  }
  return found("registered and unregistered a page (IORING_REGISTER_BUFFERS)");
}

}  // namespace zc::probes
