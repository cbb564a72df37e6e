#include "bench/support/veth_pair.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <fstream>

#include "bench/support/netns.hpp"
#include "bench/support/process.hpp"

namespace zc::bench {
namespace {

// A child that enters a new network namespace, says so on `ready`, and waits to be killed; the
// kernel kills it when its parent dies.
pid_t start_holder() {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return -1;
  const pid_t parent = ::getpid();
  const pid_t pid = fork_call([&] {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) return 1;  // the parent died before the line above
    if (::unshare(CLONE_NEWNET) != 0) return 77;
    const char ok = 1;
    if (::write(ready[1], &ok, 1) != 1) return 1;
    for (;;) ::pause();
  });
  ::close(ready[1]);
  char ok = 0;
  const bool entered = pid > 0 && ::read(ready[0], &ok, 1) == 1;
  ::close(ready[0]);
  if (!entered) {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      reap(pid);
    }
    return -1;
  }
  return pid;
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.flush();
  return static_cast<bool>(out);
}

}  // namespace

VethPair::VethPair(const VethPairOptions& options) : queues_(options.queues) {
  const std::string net = "10." + std::to_string(options.second_octet) + ".0.";
  for (int side : {a, b}) {
    End& end = ends_[static_cast<std::size_t>(side)];
    end.name = "zcx" + std::to_string(side);
    end.ip = net + std::to_string(side + 1);
    end.holder = start_holder();
    if (end.holder < 0) {
      fail("cannot make a network namespace (needs CAP_SYS_ADMIN)");
      return;
    }
  }
  const std::string queues = std::to_string(options.queues);
  // Created straight inside the two namespaces: the names never meet the host's.
  if (!bench::ip({"link",
                  "add",
                  "name",
                  ends_[a].name,
                  "netns",
                  std::to_string(ends_[a].holder),
                  "numtxqueues",
                  queues,
                  "numrxqueues",
                  queues,
                  "type",
                  "veth",
                  "peer",
                  "name",
                  ends_[b].name,
                  "netns",
                  std::to_string(ends_[b].holder),
                  "numtxqueues",
                  queues,
                  "numrxqueues",
                  queues})) {
    fail("ip link add ... type veth failed");
    return;
  }
  for (Side side : {a, b}) {
    // /proc/sys/net shows the namespace of the process that opens it.
    const int code = run_in(side, [&] {
      const bool off = write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1") &&
                       write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
      return off ? 0 : 1;
    });
    if (code != 0) {
      fail("cannot turn IPv6 off in the namespaces");
      return;
    }
  }
  for (Side side : {a, b}) {
    // The MAC, as ip shows it inside the namespace ("... link/ether 02:..:.. brd ...").
    auto child = Process::spawn(exec(side, {"ip", "-o", "link", "show", "dev", name(side)}),
                                {.out = Output::pipe});
    if (!child) {
      fail("nsenter failed");
      return;
    }
    const std::string line = child->read_all();
    const auto at = line.find("link/ether ");
    if (at != std::string::npos) ends_[side].mac = line.substr(at + 11, 17);
    if (!child->wait().ok() || ends_[side].mac.size() != 17) {
      fail("cannot read the MAC address of " + name(side));
      return;
    }
  }
  for (Side side : {a, b}) {
    const Side other = side == a ? b : a;
    if (!ip_in(side, {"addr", "add", ip(side) + "/24", "dev", name(side)}) ||
        !ip_in(side, {"link", "set", name(side), "up"}) ||
        !ip_in(side, {"link", "set", "lo", "up"}) ||
        !ip_in(side, {"neigh", "replace", ip(other), "lladdr", mac(other), "dev", name(side), "nud",
                      "permanent"})) {
      fail("cannot address " + name(side));
      return;
    }
  }
  ok_ = true;
}

VethPair::~VethPair() {
  for (End& end : ends_) {
    if (end.holder <= 0) continue;
    ::kill(end.holder, SIGKILL);
    reap(end.holder);
    end.holder = -1;
  }
}

bool VethPair::fail(std::string why) {
  why_ = std::move(why);
  ok_ = false;
  return false;
}

std::string VethPair::netns_path(Side side) const {
  return "/proc/" + std::to_string(ends_[side].holder) + "/ns/net";
}

std::vector<std::string> VethPair::exec(Side side, std::vector<std::string> command) const {
  command.insert(command.begin(), {"nsenter", "--net=" + netns_path(side)});
  return command;
}

namespace {

bool enter_netns(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool entered = ::setns(fd, CLONE_NEWNET) == 0;
  ::close(fd);
  return entered;
}

}  // namespace

bool VethPair::enter(Side side) const {
  return enter_netns(netns_path(side));
}

ThreadInNamespace::ThreadInNamespace(const std::string& netns_path) {
  home_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  ok_ = home_ >= 0 && enter_netns(netns_path);
}

ThreadInNamespace::~ThreadInNamespace() {
  if (home_ < 0) return;
  ::setns(home_, CLONE_NEWNET);
  ::close(home_);
}

int VethPair::run_in(Side side, const std::function<int()>& body) const {
  return run_in_child([&] {
    if (!enter(side)) return 77;
    return body();
  });
}

bool VethPair::ip_in(Side side, const std::vector<std::string>& args) const {
  std::vector<std::string> command{"ip"};
  command.insert(command.end(), args.begin(), args.end());
  auto child = Process::spawn(exec(side, command));
  return child && child->wait().ok();
}

}  // namespace zc::bench
