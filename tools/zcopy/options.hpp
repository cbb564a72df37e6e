// tools/zcopy/options.hpp: option types shared by subcommands.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

namespace zc::cli {

// An option holding a byte size written with a suffix ("64K", "1M", "2G").
CLI::Option* add_size_option(CLI::App& app, const std::string& name, std::uint64_t& target,
                             const std::string& description);

}  // namespace zc::cli
