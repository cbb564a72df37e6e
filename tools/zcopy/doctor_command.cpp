// zcopy doctor: probes every kernel facility and privilege zcopy uses and says why each missing
// one is missing. With --require it becomes a gate for scripts: exit 3 unless all named ones work.
#include <cstdio>
#include <string>
#include <vector>

#include "bench/support/table.hpp"
#include "command.hpp"
#include "zcopy/core/capabilities.hpp"
#include "zcopy/core/json_record.hpp"
#include "zcopy/fs/mount.hpp"
#include "zcopy/fs/transport.hpp"

namespace zc::cli {
namespace {

using bench::Table;

struct DoctorOptions {
  bool json = false;
  std::vector<std::string> required;
};

std::string known_names() {
  std::string names;
  for (Capability capability : all_capabilities()) {
    if (!names.empty()) names += ", ";
    names += id(capability);
  }
  return names;
}

void print_table(const std::vector<Probe>& probes) {
  Table table({"facility", "status", "detail"});
  std::size_t available = 0;
  for (const Probe& p : probes) {
    table.add_row({std::string(id(p.capability)), p.available ? "ok" : "missing", p.detail});
    if (p.available) ++available;
  }
  table.print(stdout);
  std::printf("\nzcopy mount: %s\n", fs::describe_worker_privileges().c_str());
  std::printf("zcopy mount transport: %s; %s\n", fs::describe_fuse_uring().c_str(),
              "zcopy mount serves through /dev/fuse (libfuse 3.14 has no io_uring transport)");
  std::printf("\n%zu of %zu available\n", available, probes.size());
}

void print_json(const std::vector<Probe>& probes) {
  for (const Probe& p : probes) {
    JsonRecord record;
    record.add("capability", id(p.capability))
        .add("name", name(p.capability))
        .add("available", p.available)
        .add("detail", p.detail);
    std::puts(record.str().c_str());
  }
}

CommandResult run_doctor(const DoctorOptions& options) {
  // Check names before probing: a typo is a usage error, not a missing capability.
  std::vector<Capability> required;
  for (const std::string& text : options.required) {
    auto capability = capability_from_name(text);
    if (!capability) {
      return usage_error("doctor --require",
                         "unknown capability '" + text + "' (known: " + known_names() + ")");
    }
    required.push_back(*capability);
  }

  const std::vector<Probe> probes = probe_all();
  if (options.json) {
    print_json(probes);
  } else {
    print_table(probes);
  }
  std::fflush(stdout);

  std::string missing;
  for (Capability capability : required) {
    const Probe& p = probe(capability);
    if (p.available) continue;
    if (!missing.empty()) missing += "; ";
    missing += std::string(id(capability)) + " (" + p.detail + ")";
  }
  if (!missing.empty()) return fail(Errc::capability_missing, "doctor", "missing " + missing);
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
  return [options] { return run_doctor(*options); };
}

}  // namespace zc::cli
