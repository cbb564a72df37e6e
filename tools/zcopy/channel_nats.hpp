// tools/zcopy/channel_nats.hpp: `zcopy channel export` and `zcopy channel import`, the bridges
// between a local channel and a NATS subject (channel_nats.cpp).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

#include "command.hpp"

namespace zc::cli {

struct ChannelNatsCommands {
  std::function<bool()> parsed;  // true when export or import was on the command line
  CommandRunner run;
};

// Adds `export` and `import` to the `channel` subcommand.
ChannelNatsCommands add_channel_nats_commands(CLI::App& channel);

}  // namespace zc::cli
