// tests/http/veth_namespace.hpp: a network namespace joined to this one by a veth pair, for
// transfers over a real link with its own addresses. Created by the constructor (check ok()) and
// removed by the destructor, so a failing test leaves nothing behind. It is bench/support's
// VethNamespace, with the tests' names (zcs<pid>) and addresses (10.201.0.0/16).
#pragma once

#include "bench/support/netns.hpp"
#include "http_test_support.hpp"

namespace zc::test {

class VethNamespace : public bench::VethNamespace {
 public:
  VethNamespace() : bench::VethNamespace("s", 201) {}
};

}  // namespace zc::test
