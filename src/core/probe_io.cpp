// Probes of the copy-free I/O system calls and devices: splice, sendfile, MSG_ZEROCOPY, FUSE.
#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <string>

#include "probe_support.hpp"
#include "zcopy/core/process_privileges.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc::probes {
namespace {

constexpr std::size_t kPayload = 4096;

struct SocketPair {
  Fd sender;
  Fd receiver;
};

// Non-blocking, so that a probe whose bytes went missing reports it instead of hanging.
Result<SocketPair> stream_socket_pair() {
  int ends[2] = {-1, -1};
  auto rc = sys_call("socketpair(AF_UNIX, SOCK_STREAM)", [&] {
    return ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, ends);
  });
  if (!rc) return std::unexpected(rc.error());
  return SocketPair{Fd::adopt(ends[0]), Fd::adopt(ends[1])};
}

// A memfd holding kPayload bytes of a recognisable pattern.
Result<Fd> patterned_memfd() {
  auto file = make_memfd("zcopy-probe-source");
  if (!file) return std::unexpected(file.error());
  std::array<unsigned char, kPayload> bytes{};
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<unsigned char>(i * 7);
  auto n = sys_call({"write", file->get()},
                    [&] { return ::write(file->get(), bytes.data(), kPayload); });
  if (!n) return std::unexpected(n.error());
  if (static_cast<std::size_t>(*n) != kPayload) {
    return fail(Errc::system, "write(memfd)", "short write");
  }
  return std::move(*file);
}

// Reads kPayload bytes from the non-blocking `socket` and checks they are the pattern; empty when
// they are. Unix sockets deliver during the send call, so whatever is missing never came.
std::string check_arrival(int socket) {
  std::array<unsigned char, kPayload> bytes{};
  std::size_t got = 0;
  while (got < kPayload) {
    auto n = sys_call({"read", socket},
                      [&] { return ::read(socket, bytes.data() + got, kPayload - got); });
    if (!n && n.error().sys_errno() == EAGAIN) break;
    if (!n) return n.error().message();
    if (*n == 0) break;
    got += static_cast<std::size_t>(*n);
  }
  if (got != kPayload) {
    return std::to_string(got) + " of " + std::to_string(kPayload) + " bytes arrived";
  }
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] != static_cast<unsigned char>(i * 7)) return "the bytes arrived corrupted";
  }
  return {};
}

}  // namespace

Finding splice() {
  auto file = patterned_memfd();
  if (!file) return lacking(file.error().message());
  auto pipe = make_pipe();
  if (!pipe) return lacking(pipe.error().message());
  auto sockets = stream_socket_pair();
  if (!sockets) return lacking(sockets.error().message());

  // A pipe holds 64 KiB by default, so one page goes through each hop in one call.
  loff_t offset = 0;
  auto in = sys_call("splice(memfd -> pipe)", [&] {
    return ::splice(file->get(), &offset, pipe->write_end.get(), nullptr, kPayload, 0);
  });
  if (!in) return lacking(in.error().message());
  auto out = sys_call("splice(pipe -> socket)", [&] {
    return ::splice(pipe->read_end.get(), nullptr, sockets->sender.get(), nullptr, kPayload, 0);
  });
  if (!out) return lacking(out.error().message());
  if (std::string why = check_arrival(sockets->receiver.get()); !why.empty()) {
    return lacking("splice memfd -> pipe -> unix socket: " + why);
  }
  return found("memfd -> pipe -> unix socket: " + std::to_string(kPayload) +
               " bytes arrived intact");
}

Finding sendfile() {
  auto file = patterned_memfd();
  if (!file) return lacking(file.error().message());
  auto sockets = stream_socket_pair();
  if (!sockets) return lacking(sockets.error().message());
  off_t offset = 0;
  auto sent = sys_call("sendfile(memfd -> socket)", [&] {
    return ::sendfile(sockets->sender.get(), file->get(), &offset, kPayload);
  });
  if (!sent) return lacking(sent.error().message());
  if (std::string why = check_arrival(sockets->receiver.get()); !why.empty()) {
    return lacking("sendfile memfd -> unix socket: " + why);
  }
  return found("memfd -> unix socket: " + std::to_string(kPayload) + " bytes arrived intact");
}

Finding msg_zerocopy() {
  // Any TCP socket will do; IPv6-only kernels exist, so try both families.
  auto socket = sys_call("socket(AF_INET, SOCK_STREAM)",
                         [] { return ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); });
  if (!socket) {
    socket = sys_call("socket(AF_INET6, SOCK_STREAM)",
                      [] { return ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0); });
  }
  if (!socket) return lacking("no TCP socket: " + socket.error().message());
  const Fd tcp = Fd::adopt(*socket);
  const int one = 1;
  auto rc = sys_call({"setsockopt(SO_ZEROCOPY)", tcp.get()}, [&] {
    return ::setsockopt(tcp.get(), SOL_SOCKET, SO_ZEROCOPY, &one, sizeof one);
  });
  if (!rc) {
    if (rc.error().sys_errno() == ENOPROTOOPT) {
      return lacking("kernel lacks SO_ZEROCOPY (added in Linux 4.14): setsockopt " +
                     errno_text(ENOPROTOOPT));
    }
    return lacking(rc.error().message());
  }
  return found("SO_ZEROCOPY accepted on a TCP socket");
}

Finding fuse() {
  auto device = Fd::open("/dev/fuse", O_RDWR);
  if (!device) {
    std::string why = device.error().message();
    if (device.error().sys_errno() == ENOENT) why += ": load the fuse module or expose the device";
    return lacking(why);
  }
  return found("/dev/fuse opened read-write");
}

Finding fuse_passthrough() {
  auto kernel = kernel_version();
  if (!kernel) return lacking(kernel.error().message());
  if (kernel->major < 6 || (kernel->major == 6 && kernel->minor < 9)) {
    return lacking("kernel " + kernel->release +
                   " is older than 6.9, which added FUSE passthrough");
  }
  if (auto device = Fd::open("/dev/fuse", O_RDWR); !device) {
    return lacking("needs /dev/fuse: " + device.error().message());
  }
  auto admin = has_effective_capability(CAP_SYS_ADMIN);
  if (!admin) return lacking(admin.error().message());
  if (!*admin) return lacking("needs CAP_SYS_ADMIN to register backing files");
  return found("kernel " + std::to_string(kernel->major) + "." + std::to_string(kernel->minor) +
               ", /dev/fuse and CAP_SYS_ADMIN present; the final check happens at mount time");
}

}  // namespace zc::probes
