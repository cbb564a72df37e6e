// zcopy doctor: probes every kernel facility and privilege zcopy uses and says why each missing
// one is missing; names the NATS client library and, with --nats, the server a URL reaches
// (bench/support/facilities.hpp). With --require it is a gate: exit 3 unless all named ones work.
#include <cstdio>
#include <string>
#include <vector>

#include "bench/support/facilities.hpp"
#include "command.hpp"
#include "options.hpp"
#include "zcopy/core/capabilities.hpp"
#include "zcopy/nats/nats_connection.hpp"

namespace zc::cli {
namespace {

struct DoctorOptions {
  bool json = false;
  std::vector<std::string> required;
  std::string nats;  // URLs whose server we report
};

CommandResult run_doctor(const DoctorOptions& options) {
  auto required = bench::capabilities_named(options.required);
  if (!required) return std::unexpected(required.error());
  bench::describe_facilities(probe_all(), options.nats).print(stdout, options.json);
  std::fflush(stdout);
  if (auto all = bench::require_capabilities(*required); !all) return std::unexpected(all.error());
  return kExitOk;
}

}  // namespace

CommandRunner add_doctor_command(CLI::App& sub) {
  auto options = std::make_shared<DoctorOptions>();
  sub.add_flag("--json", options->json, "One JSON object per line per facility");
  sub.add_option("--require", options->required,
                 "Exit 3 unless these facilities (comma-separated ids, as listed) are available")
      ->delimiter(',')
      ->type_name("NAME[,NAME]");
  sub.add_option("--nats", options->nats, "Also say which NATS server these URLs reach")
      ->check(accepted_by([](std::string_view text) { return nats::parse_nats_urls(text); },
                          "nats://HOST:PORT[,...]"))
      ->type_name("URLS");
  return [options] { return run_doctor(*options); };
}

}  // namespace zc::cli
