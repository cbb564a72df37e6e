// share_region: one process writes into shared memory, another reads it in place.
//
// The parent creates a sealed memfd region and writes a message into it. A forked child receives
// a read-only share of it (inherited across fork here; over a Unix socket between unrelated
// processes), attaches it and prints the message straight from the shared pages: no copy, and no
// way for the child to write back.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "zcopy/core/units.hpp"
#include "zcopy/mem/region.hpp"

namespace {

int fail_with(const zc::Error& error) {
  std::fprintf(stderr, "share_region: %s\n", error.message().c_str());
  return 1;
}

}  // namespace

int main() {
  auto region = zc::Region::create_shared(64 * zc::kKiB, {.name = "share-region-example"});
  if (!region) return fail_with(region.error());

  const char message[] = "hello from the parent, read in place";
  std::memcpy(region->data(), message, sizeof message);

  // O_RDONLY descriptor: the child's mapping can never be made writable.
  auto read_only = region->share(zc::Access::read_only);
  if (!read_only) return fail_with(read_only.error());

  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    auto view = zc::Region::attach(std::move(*read_only), zc::Access::read_only);
    if (!view) ::_exit(fail_with(view.error()));
    const auto* text = reinterpret_cast<const char*>(view->data());
    std::printf("child read %zu bytes of shared memory: \"%s\"\n", std::strlen(text), text);
    std::fflush(stdout);
    ::_exit(std::strcmp(text, message) == 0 ? 0 : 1);
  }

  int status = 0;
  if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return 1;
  std::printf("parent: child exited with %d\n", WEXITSTATUS(status));
  return WEXITSTATUS(status);
}
