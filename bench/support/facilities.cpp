#include "bench/support/facilities.hpp"

#include "bench/support/table.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/fs/mount.hpp"
#include "zcopy/fs/transport.hpp"
#include "zcopy/nats/nats_connection.hpp"

namespace zc::bench {
namespace {

// A line beside the kernel probes.
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

}  // namespace

Result<std::vector<Capability>> capabilities_named(const std::vector<std::string>& names) {
  std::vector<Capability> capabilities;
  for (const std::string& text : names) {
    auto capability = capability_from_name(text);
    if (!capability) {
      std::string known;
      for (Capability c : all_capabilities())
        known += (known.empty() ? "" : ", ") + std::string(id(c));
      return fail(Errc::usage, "doctor --require",
                  "unknown capability '" + text + "' (known: " + known + ")");
    }
    capabilities.push_back(*capability);
  }
  return capabilities;
}

Result<void> require_capabilities(const std::vector<Capability>& required) {
  std::string missing;
  for (Capability capability : required) {
    const Probe& p = probe(capability);
    if (p.available) continue;
    if (!missing.empty()) missing += "; ";
    missing += std::string(id(capability)) + " (" + p.detail + ")";
  }
  if (!missing.empty()) return fail(Errc::capability_missing, "doctor", "missing " + missing);
  return {};
}

Report describe_facilities(const std::vector<Probe>& probes, const std::string& nats_urls) {
  std::vector<ExtraLine> lines;
  for (const Probe& p : probes) {
    lines.push_back(
        {.id = std::string(id(p.capability)), .available = p.available, .detail = p.detail});
  }
  const std::vector<ExtraLine> extra = nats_lines(nats_urls);
  lines.insert(lines.end(), extra.begin(), extra.end());

  Report report;
  Table table({"facility", "status", "detail"});
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const ExtraLine& line = lines[i];
    table.add_row({line.id, line.available ? "ok" : "missing", line.detail});
    JsonRecord record;
    record.add("capability", line.id);
    if (i < probes.size()) record.add("name", name(probes[i].capability));
    record.add("available", line.available).add("detail", line.detail);
    report.records.push_back(std::move(record));
  }
  std::size_t available = 0;
  for (const Probe& p : probes) available += p.available ? 1 : 0;
  report.text = table.str();
  report.text += format_text("\nzcopy mount: %s\n", fs::describe_worker_privileges().c_str());
  report.text +=
      format_text("zcopy mount transport: %s; --transport auto uses io_uring only while it is on\n",
                  fs::describe_fuse_uring().c_str());
  report.text += format_text("\n%zu of %zu available\n", available, probes.size());
  return report;
}

}  // namespace zc::bench
