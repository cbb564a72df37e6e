// io_uring probes: can a ring be set up, which operations does the kernel know, do registered
// buffers work.
#include <liburing.h>
#include <sys/uio.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <memory>
#include <string>

#include "probe_support.hpp"

namespace zc::probes {
namespace {

constexpr unsigned kProbeRingEntries = 4;

// An io_uring instance that exists only for the probe. liburing reports failure as -errno.
class ProbeRing {
 public:
  ProbeRing() = default;
  ProbeRing(const ProbeRing&) = delete;
  ProbeRing& operator=(const ProbeRing&) = delete;
  ~ProbeRing() {
    if (active_) ::io_uring_queue_exit(&ring_);
  }

  // 0 on success, -errno on failure.
  int set_up() {
    const int rc = ::io_uring_queue_init(kProbeRingEntries, &ring_, 0);
    active_ = rc == 0;
    return rc;
  }
  ::io_uring* get() noexcept { return &ring_; }

 private:
  ::io_uring ring_{};
  bool active_ = false;
};

// Why io_uring_queue_init failed, naming the switch that turned it off when there is one.
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
  return "io_uring_queue_init: " + errno_text(errno_value);
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

using OpcodeTable = std::unique_ptr<io_uring_probe, decltype(&::io_uring_free_probe)>;

}  // namespace

Finding io_uring() {
  ProbeRing ring;
  if (const int rc = ring.set_up(); rc < 0) return lacking(setup_failure(-rc));
  auto kernel = kernel_version();
  char features[16];
  const auto printed =
      std::to_chars(features, features + sizeof features, ring.get()->features, 16);
  return found("ring set up (kernel " + (kernel ? kernel->release : std::string("?")) +
               ", features 0x" + std::string(features, printed.ptr) + ")");
}

Finding io_uring_opcode(Capability capability) {
  const OpcodeInfo info = opcode_info(capability);
  ProbeRing ring;
  if (const int rc = ring.set_up(); rc < 0) return lacking("needs io_uring: " + setup_failure(-rc));
  OpcodeTable table(::io_uring_get_probe_ring(ring.get()), &::io_uring_free_probe);
  if (!table) return lacking("IORING_REGISTER_PROBE failed: kernel older than 5.6");
  if (!::io_uring_opcode_supported(table.get(), info.opcode)) {
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
  std::memset(page->data(), 0x5a, length);

  const iovec buffer{page->data(), length};
  if (const int rc = ::io_uring_register_buffers(ring.get(), &buffer, 1); rc < 0) {
    std::string why = "io_uring_register_buffers(1 page): " + errno_text(-rc);
    if (rc == -ENOMEM) why += " (pinned pages count against RLIMIT_MEMLOCK)";
    return lacking(why);
  }

  // Registration alone proves little; write the registered page to a file with WRITE_FIXED.
  auto file = make_memfd("zcopy-probe-fixed");
  if (!file) return lacking(file.error().message());
  io_uring_sqe* sqe = ::io_uring_get_sqe(ring.get());
  if (sqe == nullptr) return lacking("io_uring_get_sqe: submission queue full");
  ::io_uring_prep_write_fixed(sqe, file->get(), page->data(), static_cast<unsigned>(length), 0, 0);
  if (const int rc = ::io_uring_submit_and_wait(ring.get(), 1); rc < 0) {
    return lacking("io_uring_submit_and_wait(WRITE_FIXED): " + errno_text(-rc));
  }
  io_uring_cqe* cqe = nullptr;
  if (const int rc = ::io_uring_wait_cqe(ring.get(), &cqe); rc < 0) {
    return lacking("io_uring_wait_cqe(WRITE_FIXED): " + errno_text(-rc));
  }
  const int result = cqe->res;
  ::io_uring_cqe_seen(ring.get(), cqe);
  if (result < 0) return lacking("IORING_OP_WRITE_FIXED: " + errno_text(-result));
  if (static_cast<std::size_t>(result) != length) {
    return lacking("IORING_OP_WRITE_FIXED wrote " + std::to_string(result) + " of " +
                   std::to_string(length) + " bytes");
  }
  unsigned char check = 0;
  if (::pread(file->get(), &check, 1, static_cast<off_t>(length - 1)) != 1 || check != 0x5a) {
    return lacking("IORING_OP_WRITE_FIXED completed but the file does not hold the page");
  }
  return found("registered a page and wrote it with IORING_OP_WRITE_FIXED");
}

}  // namespace zc::probes
