// tools/zcopy/demo_sections.hpp: the sections of `zcopy demo`, one per module, each a short
// self-contained tour that measures what it claims and fails with a one-line error.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "zcopy/core/error.hpp"

namespace zc::cli {

struct DemoSettings {
  std::uint64_t size_bytes = 64ULL << 20;  // buffer size for the memory sections and
                                           // the file the network section serves
  std::uint64_t messages = 1'000'000;      // messages for the ring section
};

// Prints a numbered section heading and a one-line explanation.
void demo_heading(int number, const char* title, const char* why);

Result<void> demo_machine(const DemoSettings& settings);
Result<void> demo_shared_region(const DemoSettings& settings);
Result<void> demo_buffer_pool(const DemoSettings& settings);
Result<void> demo_pinning(const DemoSettings& settings);
Result<void> demo_physical_layout(const DemoSettings& settings);
Result<void> demo_ring(const DemoSettings& settings);
Result<void> demo_channel(const DemoSettings& settings);
Result<void> demo_mount(const DemoSettings& settings);
Result<void> demo_network(const DemoSettings& settings);

}  // namespace zc::cli
