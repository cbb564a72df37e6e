// zcopy/core/fd.hpp: a move-only owner of a file descriptor.
//
// Every descriptor zcopy opens is close-on-exec and owned by exactly one Fd, which closes it when
// destroyed. A raw int is a borrowed descriptor: it never owns.
//
//   zc::Result<zc::Fd> fd = zc::Fd::open("/proc/self/pagemap", O_RDONLY);
//   ::pread(fd->get(), ...);          // borrowed for the call
//   int raw = fd->release();          // ownership leaves the Fd (e.g. handed to a C API)
#pragma once

#include <string>
#include <utility>

#include "zcopy/core/error.hpp"

namespace zc {

class Fd {
 public:
  Fd() noexcept = default;
  // Takes ownership of an open descriptor (or of -1, giving an empty Fd).
  static Fd adopt(int fd) noexcept { return Fd(fd); }
  // open(2) with O_CLOEXEC added.
  static Result<Fd> open(const std::string& path, int flags, unsigned mode = 0);
  // openat(2) relative to a directory descriptor, with O_CLOEXEC added.
  static Result<Fd> open_at(int dir_fd, const std::string& path, int flags, unsigned mode = 0);

  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  ~Fd() { reset(); }

  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  explicit operator bool() const noexcept { return valid(); }

  // Gives up ownership without closing.
  [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }
  // Closes the current descriptor (if any) and owns `fd` instead.
  void reset(int fd = -1) noexcept;
  // A second owner of the same open file description (F_DUPFD_CLOEXEC).
  Result<Fd> duplicate() const;

 private:
  explicit Fd(int fd) noexcept : fd_(fd) {}
  int fd_ = -1;
};

// pipe2(O_CLOEXEC | extra_flags): {read end, write end}.
struct Pipe {
  Fd read_end;
  Fd write_end;
};
Result<Pipe> make_pipe(int extra_flags = 0);

}  // namespace zc
