// tests/net/netns_support.hpp: run part of a test inside a private network namespace.
//
// The namespace is unnamed and belongs to a forked child: it disappears when the child exits,
// however the test ends, so nothing is left behind on the host. Sysctls written inside it
// (net.core.optmem_max is per namespace on this kernel) never touch the host's.
#pragma once

#include <sched.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>

#include "support/child_process.hpp"

namespace zc::net::test {

// Runs a shell command (iproute2); true when it exits 0.
inline bool shell(const std::string& command) {
  const int rc = std::system((command + " 2>&1").c_str());
  if (rc != 0) std::fprintf(stderr, "failed (%d): %s\n", rc, command.c_str());
  return rc == 0;
}

inline bool write_sysctl(const std::string& path, const std::string& value) {
  std::ofstream file(path);
  file << value;
  file.flush();
  return static_cast<bool>(file);
}

// Forks; the child enters a new network namespace with loopback up and runs `body`. Returns the
// child's exit code (0 success), 77 when the namespace could not be created.
inline int in_private_netns(const std::function<int()>& body) {
  return zc::test::run_in_child([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      std::perror("unshare(CLONE_NEWNET)");
      return 77;
    }
    if (!shell("ip link set lo up")) return 77;
    return body();
  });
}

}  // namespace zc::net::test
