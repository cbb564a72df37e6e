// bench/support/veth_pair.hpp: two network namespaces of their own joined by a veth pair, that
// vanish with the process that made them, however it ends.
//
// Each namespace is unnamed and held by a child process that does nothing but wait, and that the
// kernel kills when its parent dies (PR_SET_PDEATHSIG): when the holders go, the namespaces go,
// and with them the veth pair and any XDP program attached to it. Nothing is left in /run/netns
// even after a SIGKILL. Both namespaces have IPv6 off and permanent neighbour entries for each
// other, so the only packets on the link are the ones a test or benchmark sends.
//
//   zc::bench::VethPair link({.queues = 2});
//   if (!link.ok()) ...                                  // needs CAP_SYS_ADMIN and iproute2
//   auto tool = Process::spawn(link.exec(VethPair::a, {"zcopy", "xdp", "count", link.name(a)}));
//   link.run_in(VethPair::b, [&] { return send_udp(link.ip(VethPair::a), ...); });
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace zc::bench {

struct VethPairOptions {
  std::uint32_t queues = 1;  // rx and tx queues of each end
  int second_octet = 204;    // addresses 10.<second_octet>.0.1 (a) and .2 (b)
};

class VethPair {
 public:
  enum Side { a = 0, b = 1 };

  explicit VethPair(const VethPairOptions& options = {});
  ~VethPair();
  VethPair(const VethPair&) = delete;
  VethPair& operator=(const VethPair&) = delete;

  // False when a step failed (no CAP_SYS_ADMIN, no iproute2); why() says which.
  bool ok() const noexcept { return ok_; }
  const std::string& why() const noexcept { return why_; }

  const std::string& name(Side side) const noexcept { return ends_[side].name; }  // "zcx0", "zcx1"
  const std::string& ip(Side side) const noexcept { return ends_[side].ip; }
  const std::string& mac(Side side) const noexcept { return ends_[side].mac; }
  std::uint32_t queues() const noexcept { return queues_; }
  // The namespace, as a path setns() and `nsenter --net=` take.
  std::string netns_path(Side side) const;

  // `command` run inside the namespace: nsenter --net=PATH command...
  std::vector<std::string> exec(Side side, std::vector<std::string> command) const;
  // Forks; the child enters the namespace and runs `body`. The child's exit code, 77 when it
  // could not enter.
  int run_in(Side side, const std::function<int()>& body) const;
  // Moves the calling thread into the namespace (setns affects only this thread).
  bool enter(Side side) const;
  // Runs `ip ARGS...` inside the namespace; true when it exits 0.
  bool ip_in(Side side, const std::vector<std::string>& args) const;

 private:
  struct End {
    pid_t holder = -1;
    std::string name, ip, mac;
  };
  bool fail(std::string why);

  std::array<End, 2> ends_;
  std::uint32_t queues_ = 1;
  bool ok_ = false;
  std::string why_;
};

// Moves the calling thread into a network namespace for as long as it lives, then back to the
// namespace it was in (setns affects the calling thread only).
class ThreadInNamespace {
 public:
  explicit ThreadInNamespace(const std::string& netns_path);
  ~ThreadInNamespace();
  ThreadInNamespace(const ThreadInNamespace&) = delete;
  ThreadInNamespace& operator=(const ThreadInNamespace&) = delete;
  bool ok() const noexcept { return ok_; }

 private:
  int home_ = -1;
  bool ok_ = false;
};

}  // namespace zc::bench
