// zcopy/xdp/redirect_program.hpp: the XDP program that hands an interface's packets to AF_XDP
// sockets, attached for as long as this object lives.
//
// The program is five instructions, built here rather than compiled: look the receive queue up in
// an XSKMAP and redirect the packet to the socket found there, or let it pass to the stack when
// no socket serves that queue. It is attached through a BPF link, so the kernel detaches it when
// the last descriptor of the link closes: when this object is destroyed, and equally when the
// process is killed. Nothing is pinned in bpffs and nothing outlives the process.
//
//   auto program = zc::xdp::RedirectProgram::attach("eth0");   // driver mode, else skb mode
//   std::puts(program->describe().c_str());
//
// An interface takes one BPF-link program at a time: attaching to one that already has an XDP
// program fails with Errc::rejected naming the program that is there.
//
// Synchronization: not internally synchronized; sockets register with it as they open (under the
// Umem's lock) and unregister as they close.
//
// Lifetime: the sockets attached through it must be destroyed before it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "zcopy/core/error.hpp"
#include "zcopy/core/fd.hpp"
#include "zcopy/xdp/bind_mode.hpp"

namespace zc::xdp {

class RedirectProgram {
 public:
  // Queues 0 .. kMaxQueues-1 can have a socket.
  static constexpr std::uint32_t kMaxQueues = 256;

  // Loads the program and attaches it to `interface` (in the calling thread's network namespace):
  // in driver mode, falling back to skb mode when the driver refuses and `choice` allows it.
  // zero_copy and native_copy need driver mode (Errc::capability_missing without it).
  static Result<RedirectProgram> attach(std::string_view interface,
                                        ModeChoice choice = ModeChoice::automatic);

  RedirectProgram(RedirectProgram&&) noexcept = default;
  RedirectProgram& operator=(RedirectProgram&&) noexcept = default;
  RedirectProgram(const RedirectProgram&) = delete;
  RedirectProgram& operator=(const RedirectProgram&) = delete;
  ~RedirectProgram() = default;  // closing the link detaches the program

  const std::string& interface() const noexcept { return interface_; }
  int ifindex() const noexcept { return ifindex_; }
  bool native() const noexcept { return native_; }
  // Why driver mode was not used (empty when it was).
  const std::string& native_refusal() const noexcept { return native_refusal_; }
  std::uint32_t program_id() const noexcept { return program_id_; }
  // "XDP program 42 on eth0 in driver mode" (or "in skb mode: <why not driver mode>").
  std::string describe() const;

  // Sends packets arriving on `queue` to the AF_XDP socket `socket_fd`, or stops doing so.
  Result<void> route(std::uint32_t queue, int socket_fd);
  Result<void> unroute(std::uint32_t queue);

 private:
  RedirectProgram() = default;

  std::string interface_;
  int ifindex_ = 0;
  bool native_ = false;
  std::string native_refusal_;
  std::uint32_t program_id_ = 0;
  Fd map_;      // the XSKMAP: queue -> socket
  Fd program_;  // the loaded program
  Fd link_;     // the attachment; closing it detaches
};

}  // namespace zc::xdp
