#include "support/capability_gate.hpp"

#include <cstdlib>
#include <string_view>

namespace zc::test {

bool require_all() {
  const char* value = std::getenv("ZCOPY_REQUIRE_ALL");
  return value != nullptr && *value != '\0' && std::string_view(value) != "0";
}

std::string missing_reason(Capability capability) {
  const Probe& p = probe(capability);
  if (p.available) return {};
  return "needs " + std::string(name(capability)) + ": " + p.detail;
}

}  // namespace zc::test
