// zcopy get URL...: download over HTTP/1.1 with the body spliced socket -> pipe -> file, never
// through user memory; an https:// body is opened record by record in place (TLS 1.3) and written
// from there. Writes FILE.part (and its record FILE.part.zcopy) and renames it only when
// complete; --continue resumes a .part as its record says; -j fetches several URLs at once;
// --parallel-ranges splits one file over connections; -r mirrors a `zcopy serve` directory tree;
// --metalink (or a URL that answers with a Metalink) fetches the files a Metalink lists.
// SIGINT and SIGTERM stop the transfers cleanly and leave them resumable. Everything a server
// chose (names, reasons, types) is printed through printable(). `zcopy get --bench` compares us
// with curl.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "command.hpp"
#include "get_bench.hpp"
#include "get_progress.hpp"
#include "get_sources.hpp"
#include "options.hpp"
#include "stop_signals.hpp"
#include "zcopy/core/json_record.hpp"
#include "zcopy/http/client/download_batch.hpp"
#include "zcopy/http/client/metalink_download.hpp"
#include "zcopy/http/client/mirror.hpp"
#include "zcopy/http/client/printable.hpp"
#include "zcopy/net/socket_to_file.hpp"

namespace zc::cli {
namespace {

struct GetCommandOptions {
  std::vector<std::string> urls;
  std::vector<std::string> mirrors;  // --mirror: more sources of the one file
  GetSourcesSettings sources;
  bool follow_links = false;
  bool no_follow_links = false;
  bool bench_sources = false;
  std::string bench_rate = "80mbit";
  std::string input_list;  // -i FILE: one URL per line
  std::string output;
  std::string resume;  // "" (no), "yes" (-c, --continue) or "force" (--continue=force)
  unsigned jobs = 1;
  unsigned parallel_ranges = 1;
  bool recursive = false;
  std::string method = "auto";
  std::string sync = "auto";  // file, batch, none; auto: file for one file, batch for more
  bool json = false;
  double timeout_s = 30;
  int max_redirects = 5;
  std::string ca_file;
  std::string ca_path;
  bool insecure = false;
  std::string checksum;  // TYPE=HEX
  bool no_verify = false;
  std::string metalink;  // --metalink FILE
  bool no_metalink = false;
  bool bench = false;
  bool bench_tree = false;
  GetBenchSettings bench_settings;
};

// A method name for --method; a download receives, so sendfile is refused with the reason.
Result<net::ReceiveMethod> parse_receive_method(std::string_view text) {
  if (const auto method = net::receive_method_from_name(text)) return *method;
  if (text == "sendfile") {
    return fail(Errc::invalid_argument, "--method sendfile",
                "sendfile sends from a file to a socket; a download receives, use splice");
  }
  return fail(Errc::invalid_argument, "--method " + std::string(text),
              "expected auto, splice, uring or copy");
}

// One line on stderr, with whatever came from a server made harmless to the terminal.
void say(const std::string& line) {
  std::fprintf(stderr, "zcopy get: %s\n", http::printable(line).c_str());
}

Result<std::vector<std::string>> read_url_list(const std::string& path) {
  std::ifstream in(path);
  if (!in) return fail_errno(errno, "open(" + path + ")");
  std::vector<std::string> urls;
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty() && line.front() != '#') urls.push_back(line);
  }
  return urls;
}

void report(const GetCommandOptions& o, const std::string& file, const http::DownloadResult& r) {
  if (!r.note.empty()) say(file + ": " + r.note);
  if (o.json) {
    std::printf("%s\n", download_record(file, r).str().c_str());
    std::fflush(stdout);
  } else {
    say(file + ": " + r.ledger.summary() + (r.verified.empty() ? "" : "; " + r.verified));
  }
}

// The exit code after a stop signal, saying so.
int interrupted_exit() {
  say(std::string("interrupted by ") + (g_stop_signal == SIGTERM ? "SIGTERM" : "SIGINT") +
      "; partial downloads are kept: run the same command with --continue to resume");
  return kExitRuntimeError;
}

// How the run's files are made durable: --sync, where auto is one flush per file for a single
// file and one syncfs for many.
http::Durability durability_of(const GetCommandOptions& o, std::size_t urls) {
  if (const auto d = http::durability_from_name(o.sync)) return *d;
  return o.recursive || urls > 1 ? http::Durability::batch : http::Durability::file;
}

// "one syncfs" / "fsync per file" / "no sync": what the summary says about durability.
std::string durability_words(http::Durability d) {
  switch (d) {
    case http::Durability::file:
      return "synced: fsync per file";
    case http::Durability::batch:
      return "synced: one syncfs at the end";
    case http::Durability::none:
      return "not synced (--sync=none)";
  }
  return "";
}

CommandResult run_mirror(const GetCommandOptions& o, const std::vector<http::Url>& urls,
                         const http::DownloadOptions& base, http::Durability durability) {
  bool failed = false;
  for (const http::Url& url : urls) {
    http::MirrorOptions options;
    options.output_dir = o.output.empty() ? "." : o.output;
    options.download = base;
    options.parallel = o.jobs;
    options.durability = durability;
    auto result = http::mirror(url, options);
    if (!result && g_stop.load()) return interrupted_exit();
    if (!result) return std::unexpected(result.error());
    for (const Error& e : result->failures) say(e.message());
    failed = failed || !result->failures.empty();
    if (o.json) {
      JsonRecord record = result->ledger.record("get-mirror");
      record.add("url", url.str())
          .add("files_downloaded", result->files_downloaded)
          .add("files_skipped", result->files_skipped)
          .add("directories", result->directories)
          .add("failures", static_cast<std::uint64_t>(result->failures.size()))
          .add("files_per_s", result->files_per_s())
          .add("connections", result->connections_opened)
          .add("connections_reused", result->connections_reused)
          .add("sync", std::string(http::to_string(durability)));
      std::printf("%s\n", record.str().c_str());
    } else {
      std::fprintf(stderr,
                   "zcopy get -r %s: %llu files fetched (%.0f files/s), %llu already complete, "
                   "%llu dirs, %llu connections; %s; %s\n",
                   http::printable(url.str()).c_str(),
                   static_cast<unsigned long long>(result->files_downloaded), result->files_per_s(),
                   static_cast<unsigned long long>(result->files_skipped),
                   static_cast<unsigned long long>(result->directories),
                   static_cast<unsigned long long>(result->connections_opened),
                   durability_words(durability).c_str(), result->ledger.summary().c_str());
    }
    if (g_stop.load()) return interrupted_exit();
  }
  return failed ? kExitRuntimeError : kExitOk;
}

// The files a Metalink lists, into -o (a directory, default .).
CommandResult run_metalink(const GetCommandOptions& o, const http::Metalink& metalink,
                           const http::DownloadOptions& base) {
  for (const std::string& note : metalink.notes) say(note);
  http::MetalinkOptions options;
  options.output_dir = o.output.empty() ? "." : o.output;
  options.download = base;
  options.download.metalink_document = nullptr;
  options.max_per_source = o.sources.max_per_source;
  GetSourcesSettings shown;
  shown.json = o.json;
  auto results = http::download_metalink(metalink, options);
  if (!results) return std::unexpected(results.error());
  bool failed = false;
  for (const http::MetalinkFileResult& file : *results) {
    if (file.result) {
      report_sources(shown, (std::filesystem::path(options.output_dir) / file.name).string(),
                     *file.result);
    } else if (!g_stop.load()) {
      say(file.result.error().message());
      failed = true;
    }
  }
  if (g_stop.load()) return interrupted_exit();
  return failed ? kExitRuntimeError : kExitOk;
}

CommandResult run_get(GetCommandOptions& o) {
  if (o.bench) return run_get_bench(o.bench_settings);
  if (o.bench_sources) {
    return run_get_sources_bench(o.bench_settings.size, o.bench_settings.repeats,
                                 o.bench_settings.directory, o.bench_rate, o.json);
  }
  if (o.bench_tree) return run_get_tree_bench(o.bench_settings);
  if (!o.input_list.empty()) {
    auto listed = read_url_list(o.input_list);
    if (!listed) return std::unexpected(listed.error());
    o.urls.insert(o.urls.end(), listed->begin(), listed->end());
  }
  if (!o.metalink.empty() && (!o.urls.empty() || o.recursive || !o.checksum.empty())) {
    return usage_error("get --metalink",
                       "the Metalink names the files, their URLs and digests: give no URL, -r or "
                       "--checksum with it");
  }
  if (o.urls.empty() && o.metalink.empty()) {
    return usage_error("get", "no URL given (see zcopy get --help)");
  }
  if (o.recursive && !o.mirrors.empty()) {
    return usage_error("get -r --mirror", "mirrors are sources of one file; -r fetches a tree");
  }
  const bool multi_source =
      !o.recursive && is_multi_source(o.urls.size(), o.mirrors.size(), o.follow_links, o.output);
  o.sources.follow_links = !o.no_follow_links;
  if (multi_source) o.urls.insert(o.urls.end(), o.mirrors.begin(), o.mirrors.end());
  std::vector<http::Url> urls;
  for (const std::string& text : o.urls) {
    auto url = http::parse_url(text);
    if (!url) return as_usage(url.error());
    urls.push_back(std::move(*url));
  }
  auto method = parse_receive_method(o.method);
  if (!method) return as_usage(method.error());
  auto resolved = net::choose(*method);
  if (!resolved) return std::unexpected(resolved.error());
  if (!resolved->note.empty()) say(resolved->note);
  if (!o.resume.empty() && o.resume != "yes" && o.resume != "force") {
    return usage_error("get --continue=" + http::printable(o.resume),
                       "expected --continue or --continue=force");
  }

  http::DownloadProgress progress;
  http::DownloadOptions base;
  if (!o.checksum.empty()) {
    auto checksum = http::parse_checksum(o.checksum);
    if (!checksum) return as_usage(checksum.error());
    if (o.recursive || (urls.size() > 1 && !multi_source)) {
      return usage_error("get --checksum", "a checksum belongs to one file: give one URL");
    }
    base.checksum = std::move(*checksum);
  }
  base.method = resolved->method;
  // Only a method chosen for us may turn to copying for small bodies.
  base.copy_below = *method == net::ReceiveMethod::automatic ? http::kCopyBelow : 0;
  // Several sources of one file are one file.
  const http::Durability durability = durability_of(o, multi_source ? 1 : urls.size());
  base.sync = durability == http::Durability::file;
  base.resume = !o.resume.empty();
  base.force_resume = o.resume == "force";
  base.stop = &g_stop;
  base.parallel_ranges = o.parallel_ranges;
  base.verify_server_digest = !o.no_verify;
  base.max_redirects = o.max_redirects;
  base.timeout = millis(o.timeout_s);
  base.progress = &progress;
  base.tls.ca_file = o.ca_file;
  base.tls.ca_path = o.ca_path;
  base.tls.insecure = o.insecure;
  if (o.insecure) {
    say("warning: --insecure: https certificates and host names are not checked; anyone on the "
        "path can read and change what is fetched");
  }
  catch_stop_signals();
  o.sources.bytes = std::vector<std::atomic<std::uint64_t>>(multi_source ? urls.size() : 0);
  ProgressBar::Detail per_source;
  if (multi_source) per_source = [&o](double s) { return describe_sources(o.sources, s); };
  ProgressBar bar(progress, per_source);
  if (o.recursive) return run_mirror(o, urls, base, durability);
  if (!o.metalink.empty()) {
    auto metalink = http::load_metalink(o.metalink);
    if (!metalink) return std::unexpected(metalink.error());
    return run_metalink(o, *metalink, base);
  }
  if (multi_source) {
    o.sources.json = o.json;
    base.output = o.output;
    auto done = run_get_sources(urls, base, o.sources);
    if (g_stop.load()) return interrupted_exit();
    return done;
  }
  // One URL may answer with a Metalink; it is then followed rather than saved (unless a
  // --checksum says what that one file must be).
  std::string metalink_document;
  if (urls.size() == 1 && !o.no_metalink && !base.checksum) {
    base.metalink_document = &metalink_document;
  }

  auto jobs = http::plan_downloads(urls, base, o.output);
  if (!jobs) return as_usage(jobs.error());
  auto results = http::download_all(*jobs, o.jobs);
  if (durability == http::Durability::batch) {
    // Nothing is reported complete before it is durable.
    if (auto r = http::sync_file_systems(*jobs); !r) return std::unexpected(r.error());
  }
  if (g_stop.load()) {
    // Files that finished before the stop are complete; say so before the interruption.
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (results[i]) report(o, (*jobs)[i].options.output, *results[i]);
    }
    return interrupted_exit();
  }
  if (results.size() == 1 && !results[0]) return std::unexpected(std::move(results[0].error()));
  if (results.size() == 1 && results[0]->metalink) {
    const http::Url& from = results[0]->final_url;
    auto metalink = http::parse_metalink(metalink_document, from.str(), &from);
    if (!metalink) return std::unexpected(metalink.error());
    say(from.str() + " is a Metalink: fetching the files it lists");
    return run_metalink(o, *metalink, base);
  }
  bool failed = false;
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i]) {
      report(o, (*jobs)[i].options.output, *results[i]);
    } else {
      say(results[i].error().message());
      failed = true;
    }
  }
  return failed ? kExitRuntimeError : kExitOk;
}

}  // namespace

CommandRunner add_get_command(CLI::App& sub) {
  auto o = std::make_shared<GetCommandOptions>();
  sub.add_option("urls", o->urls, "http:// or https:// URLs to fetch");
  sub.add_option("--mirror", o->mirrors,
                 "Another source of the same file (repeatable): the file is fetched from all of "
                 "them at once, pieces going to each as fast as it delivers");
  sub.add_option("--max-per-source", o->sources.max_per_source,
                 "Connections to each source of a file fetched from several, or to each URL of "
                 "a Metalink's file (default 1)")
      ->check(CLI::Range(1, 16));
  sub.add_flag("--follow-links", o->follow_links,
               "Fetch one URL from the mirrors it names in Link: rel=duplicate fields too (with "
               "several sources they are always used, unless --no-follow-links)");
  sub.add_flag("--no-follow-links", o->no_follow_links,
               "Use no mirrors from Link: rel=duplicate fields");
  sub.add_option("-i,--input", o->input_list, "Read more URLs from FILE, one per line");
  sub.add_option("-o,--output", o->output,
                 "Output file (one URL, or several sources of one file) or directory (several "
                 "URLs, or -r; default .)");
  sub.add_flag("-c{yes},--continue{yes}", o->resume,
               "Resume FILE.part where its record FILE.part.zcopy says, each range from its own "
               "offset, with If-Range: a file that changed on the server starts over. "
               "--continue=force also resumes a .part that has no record (its bytes are trusted "
               "as a prefix of the file)");
  sub.add_option("-j,--jobs", o->jobs, "Download this many files at once (default 1)")
      ->check(CLI::Range(1, 256));
  sub.add_option("--parallel-ranges", o->parallel_ranges,
                 "Split one large file over K connections (default 1)")
      ->check(CLI::Range(1, 64));
  sub.add_flag("-r,--recursive", o->recursive,
               "Mirror a zcopy serve directory URL (ending in '/') under -o");
  sub.add_option("--method", o->method, "auto, splice, uring or copy (default auto)")
      ->check(accepted_by(parse_receive_method, "auto, splice, uring or copy"));
  sub.add_option("--sync", o->sync,
                 "When files are made durable: file (fsync each before its rename), batch (one "
                 "syncfs before success is reported), none; auto (default): file for one file, "
                 "batch for -r or several")
      ->check(CLI::IsMember({"auto", "file", "batch", "none"}));
  sub.add_flag("--json", o->json, "A JSON record per file on stdout instead of a summary line");
  sub.add_option("--timeout", o->timeout_s,
                 "Seconds allowed for a connection or a response head, and the stall window: "
                 "fewer than 1 KiB of body in that many seconds fails the transfer (30)")
      ->check(CLI::Range(0.1, 86400.0));
  sub.add_option("--max-redirects", o->max_redirects, "Redirects followed at most (5)")
      ->check(CLI::Range(0, 50));
  sub.add_option("--cacert", o->ca_file,
                 "https: trust the CA certificates in this PEM file instead of the system store")
      ->check(CLI::ExistingFile);
  sub.add_option("--capath", o->ca_path,
                 "https: trust the CA certificates in this hashed directory (c_rehash) instead")
      ->check(CLI::ExistingDirectory);
  sub.add_flag("-k,--insecure", o->insecure,
               "https: check neither the certificate nor the host name (says so on stderr)");
  sub.add_option("--checksum", o->checksum,
                 "TYPE=HEX (sha-256 or sha-512): the file is renamed only when its digest "
                 "matches; a mismatch removes FILE.part and names both digests")
      ->check(accepted_by(http::parse_checksum, "sha-256=HEX or sha-512=HEX"));
  sub.add_option("--metalink", o->metalink,
                 "Fetch the files this Metalink (RFC 5854, .meta4) lists into -o (a directory, "
                 "default .), each from all its URLs at once (--max-per-source each), every "
                 "piece verified against its hash as it lands and the file against its digest")
      ->check(CLI::ExistingFile);
  sub.add_flag("--no-metalink", o->no_metalink,
               "Save a URL that answers with application/metalink4+xml as it is instead of "
               "fetching the files it lists");
  sub.add_flag("--no-verify", o->no_verify,
               "Do not verify against the server's Repr-Digest or Digest field (said in the "
               "summary)");
  sub.add_flag("--bench", o->bench,
               "Benchmark: nginx serves a generated file; fetch it by every method and with curl");
  sub.add_flag("--bench-sources", o->bench_sources,
               "Benchmark: three nginx in network namespaces, each shaped to --bench-rate; one "
               "file from all three by zcopy and by aria2c -s 3 -x 3 (use --bench-size 256M)");
  sub.add_option("--bench-rate", o->bench_rate,
                 "Each source's rate for --bench-sources, as tc spells it (default 80mbit)");
  add_size_option(sub, "--bench-size", o->bench_settings.size, "Benchmark file size (default 2G)");
  sub.add_flag("--bench-tree", o->bench_tree,
               "Benchmark: zcopy serve serves a generated tree of small files; mirror it with "
               "get -r (1 connection and -j 8) and wget -r, in files per second");
  sub.add_option("--bench-files", o->bench_settings.tree_files,
                 "Files in the --bench-tree tree, 0-20 KB each, 100 per directory (default "
                 "10000)")
      ->check(CLI::Range(1, 10000000));
  CLI::Option* repeats = sub.add_option("--bench-repeats", o->bench_settings.repeats,
                                        "Measured repeats per method after a warm-up (default "
                                        "5; --bench-tree 3)")
                             ->check(CLI::Range(1, 100));
  sub.add_option("--bench-dir", o->bench_settings.directory,
                 "Where the benchmark puts its files (default: a new directory under /tmp)");
  return [o, repeats] {
    o->bench_settings.json = o->json;
    if (o->bench_tree && repeats->count() == 0) o->bench_settings.repeats = 3;
    return run_get(*o);
  };
}

}  // namespace zc::cli
