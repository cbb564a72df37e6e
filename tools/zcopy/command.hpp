// tools/zcopy/command.hpp: how a subcommand plugs into the zcopy tool.
//
// Each subcommand lives in its own <name>_command.cpp and exposes one `add_<name>_command`
// function; commands.cpp lists them all, in the order `zcopy --help` shows them. A command adds
// its options to the CLI11 subcommand it is given and returns the function that runs it.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <span>

#include "zcopy/core/error.hpp"

namespace zc::cli {

// Process exit codes, the same for every subcommand.
enum ExitCode : int {
  kExitOk = 0,
  kExitRuntimeError = 1,       // the operation failed; stderr has one line saying why
  kExitUsage = 2,              // the command line was wrong
  kExitMissingCapability = 3,  // the machine lacks a kernel feature or privilege that was required
};

// What a command returns: an exit code when it ran to the end, or the error that stopped it.
using CommandResult = Result<int>;
using CommandRunner = std::function<CommandResult()>;

struct CommandSpec {
  const char* name;
  const char* summary;
  // Adds options to `sub` (bound to state the runner captures) and returns the runner.
  CommandRunner (*add)(CLI::App& sub);
};

// Every subcommand, in help order. Defined in commands.cpp.
std::span<const CommandSpec> commands();

}  // namespace zc::cli
