// tests/net/netns_support.hpp: run part of a test inside a private network namespace.
//
// The namespace is unnamed and belongs to a forked child: it disappears when the child exits,
// however the test ends, so nothing is left behind on the host. Sysctls written inside it
// (net.core.optmem_max is per namespace on this kernel) never touch the host's. The namespace
// and `ip` are bench/support's (netns.hpp).
#pragma once

#include <sched.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>

#include "bench/support/netns.hpp"
#include "support/child_process.hpp"

namespace zc::net::test {

using bench::in_private_netns;
using bench::ip;

inline bool write_sysctl(const std::string& path, const std::string& value) {
  std::ofstream file(path);
  file << value;
  file.flush();
  return static_cast<bool>(file);
}

}  // namespace zc::net::test
