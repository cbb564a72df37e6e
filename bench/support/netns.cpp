#include "bench/support/netns.hpp"

#include <sched.h>
#include <unistd.h>

#include <cstdio>

#include "bench/support/process.hpp"

namespace zc::bench {

bool ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"ip"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto child = Process::spawn(argv);
  return child && child->wait().ok();
}

VethNamespace::VethNamespace(std::string_view tag, int second_octet) {
  const int id = static_cast<int>(::getpid() % 100000);
  const std::string prefix = "zc" + std::string(tag);
  ns_ = prefix + std::to_string(id);
  outer_ = prefix + "a" + std::to_string(id);
  inner_ = prefix + "b" + std::to_string(id);
  const std::string net =
      "10." + std::to_string(second_octet) + "." + std::to_string(id % 250) + ".";
  const int base = (id / 250 % 63) * 4;
  outer_ip_ = net + std::to_string(base + 1);
  inner_ip_ = net + std::to_string(base + 2);
  ok_ = ip({"netns", "add", ns_}) &&
        ip({"link", "add", outer_, "type", "veth", "peer", "name", inner_}) &&
        ip({"link", "set", inner_, "netns", ns_}) &&
        ip({"addr", "add", outer_ip_ + "/30", "dev", outer_}) &&
        ip({"link", "set", outer_, "up"}) &&
        ip({"-n", ns_, "addr", "add", inner_ip_ + "/30", "dev", inner_}) &&
        ip({"-n", ns_, "link", "set", inner_, "up"}) && ip({"-n", ns_, "link", "set", "lo", "up"});
}

VethNamespace::~VethNamespace() {
  ip({"netns", "del", ns_});
  ip({"link", "del", outer_});  // in case the pair was made but never moved into the namespace
}

std::vector<std::string> VethNamespace::exec(std::vector<std::string> command) const {
  command.insert(command.begin(), {"ip", "netns", "exec", ns_});
  return command;
}

int in_private_netns(const std::function<int()>& body) {
  return run_in_child([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      std::perror("unshare(CLONE_NEWNET)");
      return 77;
    }
    if (!ip({"link", "set", "lo", "up"})) {
      std::fprintf(stderr, "ip link set lo up failed\n");
      return 77;
    }
    return body();
  });
}

}  // namespace zc::bench
