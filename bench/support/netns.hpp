// bench/support/netns.hpp: network namespaces for transfers over a real link: a named namespace
// joined to this one by a veth pair, or an unnamed one private to a forked child. iproute2 does
// the work, run with its argv.
//
//   zc::bench::VethNamespace veth("b", 202);   // zcb<pid>, 10.202.x.1 here, 10.202.x.2 inside
//   if (!veth.ok()) ...                           // needs CAP_NET_ADMIN and iproute2
//   auto server = Process::spawn(veth.exec({"zcopy", "serve", dir, "--bind", veth.inner_ip()}));
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace zc::bench {

// Runs `ip ARGS...` to its end, its output discarded; true when it exits 0.
bool ip(const std::vector<std::string>& args);

// A namespace with one end of a veth pair, the other end here, each end with an address of one
// /30 chosen by pid so that parallel runs do not collide. Removed on destruction, also after a
// failure halfway (deleting the namespace deletes the end inside it, and with it the pair).
class VethNamespace {
 public:
  // `tag` (a letter or two) tells the users apart in the names: namespace zc<tag><pid>, links
  // zc<tag>a<pid> and zc<tag>b<pid>. `second_octet` picks the 10.N.0.0/16 to take a /30 from.
  VethNamespace(std::string_view tag, int second_octet);
  ~VethNamespace();
  VethNamespace(const VethNamespace&) = delete;
  VethNamespace& operator=(const VethNamespace&) = delete;

  // False when a step failed (no CAP_NET_ADMIN, no iproute2).
  bool ok() const noexcept { return ok_; }
  const std::string& name() const noexcept { return ns_; }
  const std::string& inner_ip() const noexcept { return inner_ip_; }  // inside the namespace
  const std::string& outer_ip() const noexcept { return outer_ip_; }  // here
  const std::string& inner_link() const noexcept { return inner_; }   // its veth end inside
  // `command` run inside the namespace: ip netns exec NAME command...
  std::vector<std::string> exec(std::vector<std::string> command) const;

 private:
  std::string ns_, outer_, inner_, outer_ip_, inner_ip_;
  bool ok_ = false;
};

// Forks; the child enters a network namespace of its own with loopback up and runs `body`. The
// namespace dies with the child, however the body ends. Returns the child's exit code, 77 when
// the namespace could not be made.
int in_private_netns(const std::function<int()>& body);

}  // namespace zc::bench
