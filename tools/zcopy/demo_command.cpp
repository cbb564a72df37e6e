// `zcopy demo`: the tour a newcomer runs first, on built-in defaults. Each section is an example
// of its own under examples/demo/; this runs them in order.
#include <cstdio>

#include "command.hpp"
#include "examples/demo/sections.hpp"
#include "options.hpp"
#include "zcopy/version.hpp"

namespace zc::cli {

CommandRunner add_demo_command(CLI::App& sub) {
  auto settings = std::make_shared<demo::DemoSettings>();
  add_size_option(sub, "--size", settings->size_bytes,
                  "Buffer size for the memory sections and the network section's file", 1)
      ->default_str("64M");
  sub.add_option("--messages", settings->messages, "Messages sent through the ring section")
      ->default_str("1000000")
      ->check(CLI::Range(1ULL, 1ULL << 32));
  return [settings]() -> CommandResult {
    std::printf("zcopy %s demo: data moved exactly once, measured on this machine\n", kVersion);
    using Section = Result<void> (*)(const demo::DemoSettings&);
    for (const Section section :
         {&demo::demo_machine, &demo::demo_shared_region, &demo::demo_buffer_pool,
          &demo::demo_pinning, &demo::demo_physical_layout, &demo::demo_ring, &demo::demo_channel,
          &demo::demo_mount, &demo::demo_network, &demo::demo_https}) {
      if (auto done = section(*settings); !done) return std::unexpected(done.error());
    }
    std::printf(
        "\nEvery figure above was measured just now. 'zcopy doctor' lists what this machine\n"
        "supports; 'zcopy inspect --size 64M --huge' looks closer at one buffer.\n");
    return kExitOk;
  };
}

}  // namespace zc::cli
