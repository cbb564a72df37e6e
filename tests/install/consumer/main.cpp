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
  // The umbrella brings every module's headers, and the library links their code.
  auto endpoint = zc::net::parse_endpoint("127.0.0.1:8080", 80);
  auto url = zc::http::parse_url("http://127.0.0.1:8080/a%20b.bin");
  if (!endpoint || !url) return 1;
  if (zc::net::to_string(zc::net::SendMethod::automatic) != "auto") return 1;
  std::printf("zcopy %s: %s shared region\n", zc::kVersion,
              zc::format_bytes(region->size()).c_str());
  return 0;
}
