// examples/demo/sections.hpp: the sections of `zcopy demo`, one file each, written on the public
// API like the other examples: each a short, self-contained tour that measures what it claims and
// fails with a one-line error when the machine does not do what it says.
#pragma once

#include <cstdint>

#include "zcopy/core/error.hpp"

namespace zc::demo {

struct DemoSettings {
  std::uint64_t size_bytes = 64ULL << 20;  // buffer size for the memory sections and
                                           // the file the network section serves
  std::uint64_t messages = 1'000'000;      // messages for the ring section
};

// Prints a numbered section heading and a one-line explanation.
void demo_heading(int number, const char* title, const char* why);

Result<void> demo_machine(const DemoSettings& settings);          // machine.cpp
Result<void> demo_shared_region(const DemoSettings& settings);    // shared_region.cpp
Result<void> demo_buffer_pool(const DemoSettings& settings);      // buffer_pool.cpp
Result<void> demo_pinning(const DemoSettings& settings);          // pinning.cpp
Result<void> demo_physical_layout(const DemoSettings& settings);  // physical_layout.cpp
Result<void> demo_ring(const DemoSettings& settings);             // ring.cpp
Result<void> demo_channel(const DemoSettings& settings);          // channel.cpp
Result<void> demo_mount(const DemoSettings& settings);            // mount.cpp
Result<void> demo_network(const DemoSettings& settings);          // network.cpp
Result<void> demo_https(const DemoSettings& settings);            // https.cpp

}  // namespace zc::demo
