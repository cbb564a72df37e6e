// tests/fs/uring_parameter.hpp: the fuse module's enable_uring parameter, set by a test (as
// root) for its own duration and put back afterwards.
//
//   ZC_REQUIRE_URING_PARAMETER();
//   UringParameter on(true);
//   ASSERT_TRUE(on.set());
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "mount_fixture.hpp"

namespace zc::test {

inline constexpr const char* kUringParameter = "/sys/module/fuse/parameters/enable_uring";

inline bool write_uring_parameter(const std::string& value) {
  const int fd = ::open(kUringParameter, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::write(fd, value.data(), value.size()) == static_cast<ssize_t>(value.size());
  ::close(fd);
  return ok;
}

// Sets enable_uring for the life of the object; the value before is restored after.
class UringParameter {
 public:
  explicit UringParameter(bool on) : previous_(slurp(kUringParameter)) {
    set_ = !previous_.empty() && write_uring_parameter(on ? "Y" : "N");
  }
  ~UringParameter() {
    if (set_) write_uring_parameter(previous_);
  }
  UringParameter(const UringParameter&) = delete;
  UringParameter& operator=(const UringParameter&) = delete;
  bool set() const { return set_; }

 private:
  std::string previous_;
  bool set_ = false;
};

#define ZC_REQUIRE_URING_PARAMETER()                                                     \
  do {                                                                                   \
    ZC_REQUIRE_ROOT("to set the fuse module's enable_uring parameter");                  \
    if (::access(::zc::test::kUringParameter, F_OK) != 0)                                \
      ZC_SKIP_BECAUSE(                                                                   \
          "the kernel has no FUSE over io_uring (needs 6.14 and CONFIG_FUSE_IO_URING)"); \
  } while (false)

}  // namespace zc::test
