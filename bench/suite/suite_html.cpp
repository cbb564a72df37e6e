// report.html: the run for people, in one file that needs nothing else: tables, the machine, the
// ledger rule, and every plot inline as a PNG data URI (the SVG beside it is linked, relative).
// No script, no stylesheet or font from anywhere: it opens without a network.
#include <map>

#include "bench/suite/ledger_check.hpp"
#include "bench/suite/suite.hpp"
#include "bench/support/data.hpp"
#include "bench/support/report.hpp"
#include "bench/support/table.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/http/html_escape.hpp"

namespace zc::bench {
namespace {

using http::html_escape;

std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (i + 1 < bytes.size())
      n |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    if (i + 2 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

std::string cell(const std::string& text, const char* cls = nullptr) {
  return cls == nullptr ? "<td>" + html_escape(text) + "</td>"
                        : std::string("<td class=\"") + cls + "\">" + html_escape(text) + "</td>";
}

std::string opt(const std::optional<double>& v, int decimals) {
  return v ? fixed(*v, decimals) : "";
}

std::string module_table(const std::vector<const Measurement*>& rows) {
  std::string html =
      "<table><tr><th>bench</th><th>method</th><th>side</th><th>size</th><th>throughput</th>"
      "<th>ops/s</th><th>p50</th><th>p99</th><th>CPU user s/GB</th><th>system</th>"
      "<th>softirq</th><th>copies/byte</th><th>ledger from</th><th>vs best peer</th>"
      "<th>ledger check</th><th>kernel "
      "counters</th><th>runs</th><th>spread</th><th>note</th></tr>\n";
  for (const Measurement* m : rows) {
    const bool trails = m->side == Side::ours && m->versus_ratio && *m->versus_ratio < 1.0;
    const bool disagrees = m->verdict.status == "disagrees";
    std::string cpu_user = opt(m->cpu_user_s_per_gb, 3);
    if (cpu_user.empty() && m->cpu_total_s_per_gb)
      cpu_user = fixed(*m->cpu_total_s_per_gb, 3) + " (user+sys)";
    html += std::string("<tr class=\"") + to_string(m->side) + "\">";
    html += cell(m->bench) + cell(m->method) + cell(to_string(m->side));
    html +=
        cell(m->size_bytes > 0 ? format_bytes(m->size_bytes) + " " + m->unit_note : m->unit_note);
    html += cell(m->bytes_per_s ? format_rate(*m->bytes_per_s) : "");
    html += cell(m->ops_per_s ? fixed(*m->ops_per_s, 0) : "");
    html += cell(m->latency_p50_ns ? format_nanos(*m->latency_p50_ns) : "");
    html += cell(m->latency_p99_ns ? format_nanos(*m->latency_p99_ns) : "");
    html +=
        cell(cpu_user) + cell(opt(m->cpu_system_s_per_gb, 3)) + cell(opt(m->softirq_s_per_gb, 3));
    html += cell(m->ledger ? fixed(m->ledger->copies_per_byte(), 2) : "");
    html += cell(m->ledger ? to_string(m->ledger->source) : "");
    html += cell(m->versus_ratio ? fixed(*m->versus_ratio, 2) + "x " + m->versus : "",
                 trails ? "trails" : nullptr);
    html += "<td class=\"" + std::string(disagrees ? "disagrees" : "check") + "\" title=\"" +
            html_escape(m->verdict.reason) + "\">" +
            html_escape(disagrees ? "ledger disagrees: " + m->verdict.reason : m->verdict.status) +
            "</td>";
    html += cell(
        m->counters ? format_text("%llu minor faults, %llu context switches, %llu "
                                  "read/write calls",
                                  static_cast<unsigned long long>(m->counters->minor_faults),
                                  static_cast<unsigned long long>(m->counters->context_switches),
                                  static_cast<unsigned long long>(m->counters->syscalls_read_write))
                    : "");
    html += cell(std::to_string(m->repetitions)) + cell(fixed(m->spread, 2));
    std::string note = m->note;
    if (m->memory_per_connection_bytes)
      note += (note.empty() ? "" : "; ") + fixed(*m->memory_per_connection_bytes, 0) +
              " B per connection, " + fixed(m->connections.value_or(0), 0) + " connections";
    html += cell(note) + "</tr>\n";
  }
  return html + "</table>\n";
}

constexpr const char* kStyle = R"(
body{font-family:sans-serif;margin:1.5em;color:#222;max-width:1600px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:12px;margin:.5em 0}
td,th{border:1px solid #ccc;padding:2px 5px;text-align:left;vertical-align:top}
th{background:#eee}tr.peer td{background:#f6f6ff}tr.baseline td{color:#666}
td.trails{background:#ffe0b0}td.disagrees{background:#ffc0c0;font-weight:bold}
.trailing{background:#fff4e0;border:1px solid #e0a040;padding:.5em 1em}
.plots img{max-width:760px;border:1px solid #ddd;margin:4px}
figure{display:inline-block;margin:4px}figcaption{font-size:12px}
.note{font-size:13px;color:#444}
)";

}  // namespace

std::string report_html(const SuiteResult& r, const std::string& out_dir) {
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>zcopy bench</title><style>" +
      std::string(kStyle) + "</style></head><body>\n";
  html += format_text("<h1>zcopy bench --%s</h1>\n<p>Started %s, %zu measurements in %.0f s.</p>\n",
                      r.mode.c_str(), r.started.c_str(), r.rows.size(), r.seconds);

  html += "<div class=\"trailing\"><b>Where zcopy trails its peer:</b> ";
  const auto trailing = r.trailing();
  if (trailing.empty()) html += "nowhere in this run.";
  for (std::size_t i = 0; i < trailing.size(); ++i) {
    const Measurement& m = *trailing[i];
    html += html_escape(format_text(
        "%s%s %s %s (%s): %.2fx %s", i > 0 ? "; " : "", m.module.c_str(), m.bench.c_str(),
        m.method.c_str(), format_bytes(m.size_bytes).c_str(), *m.versus_ratio, m.versus.c_str()));
  }
  std::size_t disagreeing = 0;
  for (const Measurement& m : r.rows)
    if (m.verdict.status == "disagrees") ++disagreeing;
  html += format_text(
      "<br><b>Ledger check:</b> %zu row(s) where the ledger disagrees with the "
      "CPU spent.</div>\n",
      disagreeing);

  html += "<h2>Machine</h2>\n<table>";
  std::string caches;
  for (const std::string& c : r.machine.caches) caches += (caches.empty() ? "" : ", ") + c;
  const std::pair<const char*, std::string> facts[] = {
      {"CPU", r.machine.cpu_model},
      {"cores", std::to_string(r.machine.cores)},
      {"caches", caches},
      {"kernel", r.machine.kernel},
      {"memory", r.machine.memory},
      {"load (1, 5, 15 min) at start", r.machine.load_at_start},
      {"load at end", r.machine.load_at_end},
      {"hardware counters", r.machine.hardware_counters},
      {"kernel function tracing", r.machine.function_tracing},
      {"measured, not modelled",
       "page faults and context switches: each process's own kernel counters (/proc/PID/stat "
       "and status, the counts perf's software events read, without needing perf); softirq "
       "time: /proc/stat of the server's CPU; bytes and calls through read and write: "
       "/proc/PID/io"}};
  for (const auto& [name, value] : facts)
    html += "<tr><th>" + html_escape(name) + "</th>" + cell(value) + "</tr>";
  html += "</table>\n<details><summary>Capabilities (zcopy doctor)</summary><table>";
  for (const auto& [id, status] : r.machine.capabilities)
    html += "<tr>" + cell(id) + cell(status) + "</tr>";
  html += "</table></details>\n";

  html += "<h2>The ledger check</h2>\n<p class=\"note\">" +
          html_escape(describe_rule(r.copy_cost)) +
          "</p>\n<table><tr><th>memcpy chunk</th><th>warm CPU s/GB</th><th>cold CPU s/GB</th></tr>";
  for (const CopyCostPoint& p : r.copy_cost.points)
    html += "<tr>" + cell(format_bytes(p.chunk)) + cell(fixed(p.warm_s_per_gb, 4)) +
            cell(fixed(p.cold_s_per_gb, 4)) + "</tr>";
  html += "</table>\n";

  if (!r.plot_error.empty())
    html += "<p class=\"note\"><b>No plots:</b> " + html_escape(r.plot_error) + "</p>\n";
  for (const PartStatus& p : r.parts) {
    html += "<h2>" + html_escape(p.module) + ": " + html_escape(p.what) + "</h2>\n";
    html += format_text("<p class=\"note\">%s in %.0f s%s%s</p>\n", p.status.c_str(), p.seconds,
                        p.reason.empty() ? "" : ": ", html_escape(p.reason).c_str());
    std::vector<const Measurement*> rows;
    for (const Measurement& m : r.rows)
      if (m.module == p.module) rows.push_back(&m);
    if (!rows.empty()) html += module_table(rows);
    for (const std::string& note : p.notes)
      html += "<p class=\"note\">" + html_escape(note) + "</p>\n";
    html += "<div class=\"plots\">";
    for (const PlotFile& plot : r.plots) {
      if (plot.module != p.module) continue;
      const std::string png = read_text(out_dir + "/" + plot.png);
      if (png.empty()) continue;
      html += "<figure><img alt=\"" + html_escape(plot.title) + "\" src=\"data:image/png;base64," +
              base64(png) + "\"><figcaption>" + html_escape(plot.title) + " (<a href=\"" +
              html_escape(plot.svg) + "\">SVG</a>)</figcaption></figure>\n";
    }
    html += "</div>\n";
  }
  html += "</body></html>\n";
  return html;
}

}  // namespace zc::bench
