// tools/zcopy/options.hpp: option types and checks shared by subcommands. A value is checked
// while CLI11 parses the command line wherever it can be, so a bad one is a usage error (exit 2)
// before anything runs.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

namespace zc::cli {

// An option holding a byte size written with a suffix ("64K", "1M", "2G"), at least `minimum`.
CLI::Option* add_size_option(CLI::App& app, const std::string& name, std::uint64_t& target,
                             const std::string& description, std::uint64_t minimum = 0);

// A --seconds-style option's value as the milliseconds a library call takes.
inline std::chrono::milliseconds millis(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

// A check that a library's parser (returning std::optional, or a Result whose error then says
// why) accepts the value; `names` says what it accepts.
template <class Parser>
CLI::Validator accepted_by(Parser parse, std::string names) {
  return CLI::Validator(
      [parse, names](std::string& text) -> std::string {
        const auto parsed = parse(text);
        if (parsed) return {};
        if constexpr (requires { parsed.error().message(); }) {
          return parsed.error().message();
        } else {
          return "'" + text + "': expected " + names;
        }
      },
      names);
}

}  // namespace zc::cli
