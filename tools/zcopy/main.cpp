// zcopy: the command-line tool. Parses the command line, runs one subcommand, and turns its error
// into one line on stderr and a distinct exit code.
#include <cstdio>
#include <memory>

#include "command.hpp"
#include "zcopy/http/client/printable.hpp"
#include "zcopy/version.hpp"

int main(int argc, char** argv) {
  CLI::App app{"zcopy: move data on Linux exactly once, and count the copies saved", "zcopy"};
  app.set_version_flag("--version", std::string("zcopy ") + zc::kVersion);
  app.footer(
      "Exit codes: 0 ok, 1 runtime error, 2 usage error, 3 missing kernel capability.\n"
      "Run 'zcopy doctor' to see what this machine supports.");

  zc::cli::CommandRunner selected;
  for (const zc::cli::CommandSpec& spec : zc::cli::commands()) {
    CLI::App* sub = app.add_subcommand(spec.name, spec.summary);
    auto runner = std::make_shared<zc::cli::CommandRunner>(spec.add(*sub));
    sub->callback([&selected, runner] { selected = *runner; });
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "zcopy: %s (see zcopy --help)\n", e.what());
    return zc::cli::kExitUsage;
  }

  if (!selected) {
    std::fprintf(stderr, "zcopy: a command is required (see zcopy --help)\n");
    return zc::cli::kExitUsage;
  }
  const zc::cli::CommandResult result = selected();
  if (!result) {
    // Messages may quote a server's words; none of its control bytes reach the terminal.
    std::fprintf(stderr, "zcopy: %s\n", zc::http::printable(result.error().message()).c_str());
    return zc::cli::exit_code_for(result.error());
  }
  return *result;
}
