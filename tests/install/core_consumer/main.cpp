// A program that links zcopy::core alone: sizes, errors and capability probes.
#include <cstdio>
#include <zcopy/core/capabilities.hpp>
#include <zcopy/core/units.hpp>

int main() {
  auto size = zc::parse_size("2M");
  if (!size || *size != 2 * 1024 * 1024) return 1;
  const zc::Probe& ring = zc::probe(zc::Capability::io_uring);
  std::printf("zcopy core: %s, io_uring %s (%s)\n", zc::format_bytes(*size).c_str(),
              ring.available ? "available" : "missing", ring.detail.c_str());
  return 0;
}
