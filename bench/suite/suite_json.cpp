// results.json: the whole run as one JSON document (bench/report/results.schema.json).
#include "bench/suite/ledger_check.hpp"
#include "bench/suite/suite.hpp"
#include "zcopy/core/json_record.hpp"
#include "zcopy/version.hpp"

namespace zc::bench {
namespace {

std::string array(const std::vector<std::string>& items, const char* indent) {
  if (items.empty()) return "[]";
  std::string out = "[\n";
  for (std::size_t i = 0; i < items.size(); ++i)
    out += indent + items[i] + (i + 1 < items.size() ? ",\n" : "\n");
  return out + std::string(indent, std::string_view(indent).size() - 2) + "]";
}

std::string strings(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i > 0 ? "," : "") + json_quote(items[i]);
  return out + "]";
}

// `record` with `key` holding raw JSON added before its closing brace.
std::string with_raw(const JsonRecord& record, std::string_view key, const std::string& raw) {
  std::string text = record.str();
  text.insert(text.size() - 1, (text.size() > 2 ? "," : "") + json_quote(key) + ":" + raw);
  return text;
}

}  // namespace

std::string results_json(const SuiteResult& r) {
  std::vector<std::string> capabilities, points, parts, trailing, measurements, plots;
  for (const auto& [id, status] : r.machine.capabilities) {
    JsonRecord c;
    c.add("id", id).add("status", status);
    capabilities.push_back(c.str());
  }
  for (const JsonRecord& p : records(r.copy_cost)) points.push_back(p.str());
  for (const PartStatus& p : r.parts) {
    JsonRecord part;
    part.add("module", p.module)
        .add("what", p.what)
        .add("status", p.status)
        .add("reason", p.reason)
        .add("seconds", p.seconds);
    parts.push_back(with_raw(part, "notes", strings(p.notes)));
  }
  for (const Measurement* m : r.trailing()) {
    JsonRecord t = bench_record(m->bench, m->method, m->size_bytes);
    t.add("module", m->module).add("versus", m->versus).add("versus_ratio", *m->versus_ratio);
    trailing.push_back(t.str());
  }
  for (const Measurement& m : r.rows) measurements.push_back(m.record().str());
  for (const PlotFile& p : r.plots) {
    JsonRecord plot;
    plot.add("module", p.module).add("png", p.png).add("svg", p.svg).add("title", p.title);
    plots.push_back(plot.str());
  }
  JsonRecord head;
  head.add("schema", "zcopy-bench-results/1")
      .add("zcopy_version", kVersion)
      .add("mode", r.mode)
      .add("started", r.started)
      .add("seconds", r.seconds)
      .add("ledger_rule", describe_rule(r.copy_cost))
      .add("plot_error", r.plot_error);
  JsonRecord cost;
  cost.add("lower_s_per_gb", r.copy_cost.lower_s_per_gb)
      .add("upper_s_per_gb", r.copy_cost.upper_s_per_gb)
      .add("syscall_ns", r.copy_cost.syscall_s * 1e9);
  std::string text = head.str();
  text.pop_back();
  text += ",\n  \"machine\": " + r.machine.record().str();
  text += ",\n  \"capabilities\": " + array(capabilities, "    ");
  text += ",\n  \"copy_cost\": " + with_raw(cost, "points", array(points, "      "));
  text += ",\n  \"parts\": " + array(parts, "    ");
  text += ",\n  \"trailing\": " + array(trailing, "    ");
  text += ",\n  \"measurements\": " + array(measurements, "    ");
  text += ",\n  \"plots\": " + array(plots, "    ");
  return text + "\n}\n";
}

}  // namespace zc::bench
