// src/core/probe_support.hpp: what the capability probes share: their verdict type, the probe
// functions themselves, and small helpers to read sysctl/sysfs files and scratch resources.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "zcopy/core/capabilities.hpp"
#include "zcopy/core/error.hpp"
#include "zcopy/core/fd.hpp"

namespace zc::probes {

// A probe's verdict; the dispatcher adds which capability it is about.
struct Finding {
  bool available = false;
  std::string detail;
};
inline Finding found(std::string detail) {
  return {true, std::move(detail)};
}
inline Finding lacking(std::string detail) {
  return {false, std::move(detail)};
}

// probe_io_uring.cpp
Finding io_uring();
Finding io_uring_opcode(Capability capability);  // io_uring_splice, _send_zc, _sendmsg_zc
Finding io_uring_fixed_buffers();

// probe_io.cpp
Finding splice();
Finding sendfile();
Finding msg_zerocopy();
Finding fuse();
Finding fuse_passthrough();

// probe_xdp.cpp
Finding af_xdp();
Finding xdp_native_veth();
Finding af_xdp_zero_copy();

// probe_memory.cpp
Finding userfaultfd_wp();
Finding memfd_seals();
Finding transparent_huge_pages();
Finding shmem_huge_pages();
Finding hugetlb_pages();
Finding memlock();
Finding pagemap_physical();
Finding effective_capability(int capability, const char* capability_name);

// "Operation not permitted [EPERM]".
std::string errno_text(int errno_value);

// The first line of a small text file such as a sysctl, without its newline.
Result<std::string> read_first_line(const std::string& path);

// The value between brackets in a sysfs choice list ("always [madvise] never" -> "madvise").
std::optional<std::string> bracketed_choice(const std::string& line);

struct KernelVersion {
  int major = 0;
  int minor = 0;
  std::string release;  // uname -r, verbatim
};
Result<KernelVersion> kernel_version();

// memfd_create(name, MFD_CLOEXEC | flags).
Result<Fd> make_memfd(const char* name, unsigned flags = 0);

// A private anonymous read-write mapping, unmapped on destruction.
class ScratchMapping {
 public:
  static Result<ScratchMapping> create(std::size_t length);
  ScratchMapping(ScratchMapping&& other) noexcept;
  ScratchMapping& operator=(ScratchMapping&&) = delete;
  ScratchMapping(const ScratchMapping&) = delete;
  ScratchMapping& operator=(const ScratchMapping&) = delete;
  ~ScratchMapping();

  std::byte* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return length_; }

 private:
  ScratchMapping(std::byte* data, std::size_t length) : data_(data), length_(length) {}
  std::byte* data_;
  std::size_t length_;
};

std::size_t page_size() noexcept;

}  // namespace zc::probes
