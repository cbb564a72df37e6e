#include "zcopy/secure/ktls.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstring>

#include "zcopy/core/fd.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc::secure {

namespace {

Result<Fd> tcp_socket() {
  auto fd = sys_call("socket", [] { return ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); });
  if (!fd) return std::unexpected(fd.error());
  return Fd::adopt(*fd);
}

}  // namespace

Result<void> probe_ktls() {
  // TCP_ULP needs an established socket: a loopback pair made here and dropped at once.
  auto listener = tcp_socket();
  if (!listener) return std::unexpected(listener.error());
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  auto* raw = reinterpret_cast<sockaddr*>(&address);
  if (auto r = sys_call("bind", [&] { return ::bind(listener->get(), raw, sizeof address); }); !r)
    return std::unexpected(r.error());
  if (auto r = sys_call("listen", [&] { return ::listen(listener->get(), 1); }); !r)
    return std::unexpected(r.error());
  if (auto r =
          sys_call("getsockname", [&] { return ::getsockname(listener->get(), raw, &length); });
      !r)
    return std::unexpected(r.error());
  auto client = tcp_socket();
  if (!client) return std::unexpected(client.error());
  if (auto r = sys_call("connect", [&] { return ::connect(client->get(), raw, sizeof address); });
      !r)
    return std::unexpected(r.error());

  static constexpr char kUlp[] = "tls";
  if (::setsockopt(client->get(), IPPROTO_TCP, TCP_ULP, kUlp, sizeof kUlp - 1) == 0) return {};
  const int error = errno;
  struct stat ignored {};
  const bool module_loaded = ::stat("/sys/module/tls", &ignored) == 0;
  if (error == ENOENT)
    return fail(Errc::capability_missing, "kTLS",
                std::string("kernel has no TLS upper-layer protocol (CONFIG_TLS is off") +
                    (module_loaded ? ")" : "; /sys/module/tls absent)") +
                    ": TLS records are opened in user space");
  return std::unexpected(Error::from_errno(error, "kTLS: setsockopt(TCP_ULP, tls)",
                                           "TLS records are opened in user space"));
}

}  // namespace zc::secure
