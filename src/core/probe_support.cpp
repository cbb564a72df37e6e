#include "probe_support.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "zcopy/core/syscall.hpp"

namespace zc::probes {

std::string errno_text(int errno_value) {
  std::string text = std::strerror(errno_value);
  if (const char* name = strerrorname_np(errno_value)) text += std::string(" [") + name + "]";
  return text;
}

Result<std::string> read_first_line(const std::string& path) {
  auto fd = Fd::open(path, O_RDONLY);
  if (!fd) return std::unexpected(fd.error());
  // Every file the probes read (sysctls, sysfs choice lists) fits in one small read.
  char buffer[512];
  auto n = sys_call({"read", fd->get()}, [&] { return ::read(fd->get(), buffer, sizeof buffer); });
  if (!n) return std::unexpected(std::move(n.error()).with_context(path));
  std::string text(buffer, static_cast<std::size_t>(*n));
  if (const auto end = text.find('\n'); end != std::string::npos) text.resize(end);
  return text;
}

std::optional<std::string> bracketed_choice(const std::string& line) {
  const auto open = line.find('[');
  const auto close = line.find(']', open == std::string::npos ? 0 : open);
  if (open == std::string::npos || close == std::string::npos) return std::nullopt;
  return line.substr(open + 1, close - open - 1);
}

Result<KernelVersion> kernel_version() {
  utsname names{};
  auto rc = sys_call("uname", [&] { return ::uname(&names); });
  if (!rc) return std::unexpected(rc.error());
  KernelVersion version;
  version.release = names.release;
  if (std::sscanf(names.release, "%d.%d", &version.major, &version.minor) != 2) {
    return fail(Errc::corrupt, "uname", "unparsable kernel release '" + version.release + "'");
  }
  return version;
}

Result<Fd> make_memfd(const char* name, unsigned flags) {
  auto fd = sys_call("memfd_create", [&] { return ::memfd_create(name, MFD_CLOEXEC | flags); });
  if (!fd) return std::unexpected(fd.error());
  return Fd::adopt(*fd);
}

Result<ScratchMapping> ScratchMapping::create(std::size_t length) {
  void* address =
      ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (address == MAP_FAILED) return fail_errno(errno, "mmap(" + std::to_string(length) + " bytes)");
  return ScratchMapping(static_cast<std::byte*>(address), length);
}

ScratchMapping::ScratchMapping(ScratchMapping&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), length_(std::exchange(other.length_, 0)) {}

ScratchMapping::~ScratchMapping() {
  if (data_ != nullptr) ::munmap(data_, length_);
}

std::size_t page_size() noexcept {
  static const auto size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return size;
}

}  // namespace zc::probes
