// tools/zcopy/command.hpp: how a subcommand plugs into the zcopy tool.
//
// Each subcommand lives in its own <name>_command.cpp and exposes one `add_<name>_command`
// function; commands.cpp lists them all, in the order `zcopy --help` shows them. A command adds
// its options to the CLI11 subcommand it is given and returns the function that runs it.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <span>
#include <string>
#include <utility>

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
// main turns an error into its one line and the exit code exit_code_for() gives.
using CommandResult = Result<int>;
using CommandRunner = std::function<CommandResult()>;

struct CommandSpec {
  const char* name;
  const char* summary;
  // Adds options to `sub` (bound to state the runner captures) and returns the runner.
  CommandRunner (*add)(CLI::App& sub);
};

// The exit code for a command's error: its Errc decides.
inline int exit_code_for(const Error& error) {
  switch (error.code()) {
    case Errc::usage:
      return kExitUsage;
    case Errc::capability_missing:
      return kExitMissingCapability;
    default:
      return kExitRuntimeError;
  }
}

// A mistake on the command line that a command finds itself (a value CLI11 could not check, a
// missing argument, options that contradict each other): main prints it and exits kExitUsage, as
// for what CLI11 finds while parsing. Commands never print usage errors or return kExitUsage.
inline std::unexpected<Error> usage_error(std::string what, std::string detail) {
  return fail(Errc::usage, std::move(what), std::move(detail));
}

// as_usage(error) (zcopy/core/error.hpp) makes a library's Errc::invalid_argument a usage error.

// Every subcommand, in help order. Defined in commands.cpp.
std::span<const CommandSpec> commands();

}  // namespace zc::cli
