// `zcopy demo`: the tour a newcomer runs first, on built-in defaults. Each module adds a section.
#include <cstdio>

#include "command.hpp"
#include "demo_sections.hpp"
#include "options.hpp"
#include "zcopy/version.hpp"

namespace zc::cli {

void demo_heading(int number, const char* title, const char* why) {
  std::printf("\n%d. %s\n   %s\n\n", number, title, why);
  std::fflush(stdout);
}

CommandRunner add_demo_command(CLI::App& sub) {
  auto settings = std::make_shared<DemoSettings>();
  add_size_option(sub, "--size", settings->size_bytes,
                  "Buffer size for the memory sections and the network section's file", 1)
      ->default_str("64M");
  sub.add_option("--messages", settings->messages, "Messages sent through the ring section")
      ->default_str("1000000")
      ->check(CLI::Range(1ULL, 1ULL << 32));
  return [settings]() -> CommandResult {
    std::printf("zcopy %s demo: data moved exactly once, measured on this machine\n", kVersion);
    using Section = Result<void> (*)(const DemoSettings&);
    for (const Section section :
         {&demo_machine, &demo_shared_region, &demo_buffer_pool, &demo_pinning,
          &demo_physical_layout, &demo_ring, &demo_channel, &demo_mount, &demo_network}) {
      if (auto done = section(*settings); !done) return std::unexpected(done.error());
    }
    std::printf(
        "\nEvery figure above was measured just now. 'zcopy doctor' lists what this machine\n"
        "supports; 'zcopy inspect --size 64M --huge' looks closer at one buffer.\n");
    return kExitOk;
  };
}

}  // namespace zc::cli
