// A program outside the zcopy tree: uses the umbrella header and the installed library.
#include <cstdio>
#include <zcopy/zcopy.hpp>

int main() {
  auto size = zc::parse_size("64K");
  if (!size || *size != 64 * 1024) return 1;
  auto region = zc::Region::create_shared(*size);
  if (!region) {
    std::fprintf(stderr, "%s\n", region.error().message().c_str());
    return 1;
  }
  region->bytes()[0] = std::byte{1};
  std::printf("zcopy %s: %s shared region\n", zc::kVersion,
              zc::format_bytes(region->size()).c_str());
  return 0;
}
