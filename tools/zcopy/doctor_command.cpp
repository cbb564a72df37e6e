// zcopy doctor: probes every kernel facility and privilege zcopy uses and says why each missing
// one is missing; names the NATS client library and, with --nats, the server a URL reaches. With
// --require it becomes a gate for scripts: exit 3 unless all named ones work.
#include <cstdio>
#include <string>
#include <vector>

#include "bench/support/table.hpp"
#include "command.hpp"
#include "options.hpp"
#include "zcopy/core/capabilities.hpp"
#include "zcopy/core/json_record.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/fs/mount.hpp"
#include "zcopy/fs/transport.hpp"
#include "zcopy/nats/nats_connection.hpp"

namespace zc::cli {
namespace {

using bench::Table;

struct DoctorOptions {
  bool json = false;
  std::vector<std::string> required;
  std::string nats;  // URLs whose server we report
};

// Lines beside the kernel probes: the NATS client library, and with --nats which server the
// URLs reach (the client's answer, with any secret in a URL cut off).
struct ExtraLine {
  std::string id;
  bool available = false;
  std::string detail;
};

std::vector<ExtraLine> nats_lines(const std::string& urls) {
  std::vector<ExtraLine> lines{
      {.id = "nats-client", .available = true, .detail = "libnats " + nats::client_version()}};
  if (urls.empty()) return lines;
  auto list = nats::parse_nats_urls(urls);
  if (!list) return lines;
  auto connection = nats::NatsConnection::connect({.urls = *list, .max_reconnects = 0});
  if (!connection) {
    lines.push_back(
        {.id = "nats-server", .available = false, .detail = connection.error().message()});
  } else {
    lines.push_back({.id = "nats-server",
                     .available = true,
                     .detail = connection->connected_url() + " (server " + connection->server_id() +
                               ", max payload " + format_bytes(connection->max_payload()) + ")"});
  }
  return lines;
}

std::string known_names() {
  std::string names;
  for (Capability capability : all_capabilities()) {
    if (!names.empty()) names += ", ";
    names += id(capability);
  }
  return names;
}

void print_table(const std::vector<Probe>& probes, const std::vector<ExtraLine>& extra) {
  Table table({"facility", "status", "detail"});
  std::size_t available = 0;
  for (const Probe& p : probes) {
    table.add_row({std::string(id(p.capability)), p.available ? "ok" : "missing", p.detail});
    if (p.available) ++available;
  }
  for (const ExtraLine& line : extra) {
    table.add_row({line.id, line.available ? "ok" : "missing", line.detail});
  }
  table.print(stdout);
  std::printf("\nzcopy mount: %s\n", fs::describe_worker_privileges().c_str());
  std::printf("zcopy mount transport: %s; --transport auto uses io_uring only while it is on\n",
              fs::describe_fuse_uring().c_str());
  std::printf("\n%zu of %zu available\n", available, probes.size());
}

void print_json(const std::vector<Probe>& probes, const std::vector<ExtraLine>& extra) {
  for (const Probe& p : probes) {
    JsonRecord record;
    record.add("capability", id(p.capability))
        .add("name", name(p.capability))
        .add("available", p.available)
        .add("detail", p.detail);
    std::puts(record.str().c_str());
  }
  for (const ExtraLine& line : extra) {
    JsonRecord record;
    record.add("capability", line.id).add("available", line.available).add("detail", line.detail);
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
  const std::vector<ExtraLine> extra = nats_lines(options.nats);
  if (options.json) {
    print_json(probes, extra);
  } else {
    print_table(probes, extra);
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
  sub.add_option("--nats", options->nats, "Also say which NATS server these URLs reach")
      ->check(accepted_by([](std::string_view text) { return nats::parse_nats_urls(text); },
                          "nats://HOST:PORT[,...]"))
      ->type_name("URLS");
  return [options] { return run_doctor(*options); };
}

}  // namespace zc::cli
