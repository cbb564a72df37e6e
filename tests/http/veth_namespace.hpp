// tests/http/veth_namespace.hpp: a network namespace joined to this one by a veth pair, for
// transfers over a real link with its own addresses. Created by the constructor (check ok()) and
// removed by the destructor, so a failing test leaves nothing behind.
#pragma once

#include <unistd.h>

#include <string>

#include "http_test_support.hpp"

namespace zc::test {

// A namespace and a veth pair named after this process; removed on destruction even if the test
// failed halfway (deleting the namespace deletes the end inside it, and with it the pair).
class VethNamespace {
 public:
  VethNamespace() {
    const int id = static_cast<int>(::getpid() % 100000);
    ns_ = "zcserve" + std::to_string(id);
    outer_ = "zcsa" + std::to_string(id);
    inner_ = "zcsb" + std::to_string(id);
    // A /30 from 10.201.0.0/16 chosen by pid, so parallel runs do not collide.
    const std::string net = "10.201." + std::to_string(id % 250) + ".";
    const int base = (id / 250 % 63) * 4;
    outer_ip_ = net + std::to_string(base + 1);
    inner_ip_ = net + std::to_string(base + 2);
    ok_ = sh("ip netns add " + ns_) &&
          sh("ip link add " + outer_ + " type veth peer name " + inner_) &&
          sh("ip link set " + inner_ + " netns " + ns_) &&
          sh("ip addr add " + outer_ip_ + "/30 dev " + outer_) &&
          sh("ip link set " + outer_ + " up") &&
          sh("ip -n " + ns_ + " addr add " + inner_ip_ + "/30 dev " + inner_) &&
          sh("ip -n " + ns_ + " link set " + inner_ + " up") &&
          sh("ip -n " + ns_ + " link set lo up");
  }
  ~VethNamespace() {
    sh("ip netns del " + ns_ + " 2>/dev/null");
    sh("ip link del " + outer_ + " 2>/dev/null");
  }
  VethNamespace(const VethNamespace&) = delete;
  VethNamespace& operator=(const VethNamespace&) = delete;

  bool ok() const { return ok_; }
  const std::string& name() const { return ns_; }
  const std::string& inner_ip() const { return inner_ip_; }
  const std::string& outer_ip() const { return outer_ip_; }

 private:
  static bool sh(const std::string& command) {
    return run_program({"sh", "-c", command}).exit_code == 0;
  }
  std::string ns_, outer_, inner_, outer_ip_, inner_ip_;
  bool ok_ = false;
};

}  // namespace zc::test
