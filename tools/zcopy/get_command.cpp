// zcopy get URL...: download over HTTP/1.1 with the body spliced socket -> pipe -> file, never
// through user memory. Writes FILE.part and renames it only when complete; --continue resumes a
// .part; -j fetches several URLs at once; --parallel-ranges splits one file over connections;
// -r mirrors a `zcopy serve` directory tree. `zcopy get --bench` compares us with curl.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "command.hpp"
#include "get_bench.hpp"
#include "get_progress.hpp"
#include "options.hpp"
#include "zcopy/core/json_record.hpp"
#include "zcopy/http/download_batch.hpp"
#include "zcopy/http/mirror.hpp"

namespace zc::cli {
namespace {

struct GetCommandOptions {
  std::vector<std::string> urls;
  std::string input_list;  // -i FILE: one URL per line
  std::string output;
  bool resume = false;
  unsigned jobs = 1;
  unsigned parallel_ranges = 1;
  bool recursive = false;
  std::string method = "auto";
  bool json = false;
  double timeout_s = 30;
  int max_redirects = 5;
  bool bench = false;
  GetBenchSettings bench_settings;
};

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The local name for `url`: its last path segment, which must be a plain file name.
Result<std::string> local_name(const http::Url& url) {
  std::string name = url.file_name();
  if (name.empty()) name = "index.html";
  if (name == "." || name == ".." || name.find('/') != std::string::npos ||
      name.find('\0') != std::string::npos) {
    return usage_error("get " + url.str(), "cannot name a local file after the URL; use -o FILE");
  }
  return name;
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
  if (!r.note.empty()) std::fprintf(stderr, "zcopy get: %s: %s\n", file.c_str(), r.note.c_str());
  if (o.json) {
    JsonRecord record = r.ledger.record("get");
    record.add("url", r.final_url.str()).add("file", file).add("resumed_from", r.resumed_from);
    std::printf("%s\n", record.str().c_str());
    std::fflush(stdout);
  } else {
    std::fprintf(stderr, "zcopy get: %s: %s\n", file.c_str(), r.ledger.summary().c_str());
  }
}

CommandResult run_mirror(const GetCommandOptions& o, const std::vector<http::Url>& urls,
                         const http::DownloadOptions& base) {
  bool failed = false;
  for (const http::Url& url : urls) {
    http::MirrorOptions options;
    options.output_dir = o.output.empty() ? "." : o.output;
    options.download = base;
    options.parallel = o.jobs;
    auto result = http::mirror(url, options);
    if (!result) return std::unexpected(result.error());
    for (const Error& e : result->failures) {
      std::fprintf(stderr, "zcopy get: %s\n", e.message().c_str());
    }
    failed = failed || !result->failures.empty();
    if (o.json) {
      JsonRecord record = result->ledger.record("get-mirror");
      record.add("url", url.str())
          .add("files_downloaded", result->files_downloaded)
          .add("files_skipped", result->files_skipped)
          .add("directories", result->directories)
          .add("failures", static_cast<std::uint64_t>(result->failures.size()));
      std::printf("%s\n", record.str().c_str());
    } else {
      std::fprintf(
          stderr, "zcopy get -r %s: %llu files fetched, %llu already complete, %llu dirs; %s\n",
          url.str().c_str(), static_cast<unsigned long long>(result->files_downloaded),
          static_cast<unsigned long long>(result->files_skipped),
          static_cast<unsigned long long>(result->directories), result->ledger.summary().c_str());
    }
  }
  return failed ? kExitRuntimeError : kExitOk;
}

CommandResult run_get(GetCommandOptions& o) {
  if (o.bench) return run_get_bench(o.bench_settings);
  if (!o.input_list.empty()) {
    auto listed = read_url_list(o.input_list);
    if (!listed) return std::unexpected(listed.error());
    o.urls.insert(o.urls.end(), listed->begin(), listed->end());
  }
  if (o.urls.empty()) {
    return usage_error("get", "no URL given (see zcopy get --help)");
  }
  std::vector<http::Url> urls;
  for (const std::string& text : o.urls) {
    auto url = http::parse_url(text);
    if (!url) return as_usage(url.error());
    urls.push_back(std::move(*url));
  }
  auto method = http::parse_download_method(o.method);
  if (!method) return as_usage(method.error());
  auto resolved = http::resolve_download_method(*method);
  if (!resolved) return std::unexpected(resolved.error());
  if (!resolved->fallback_note.empty()) {
    std::fprintf(stderr, "zcopy get: %s\n", resolved->fallback_note.c_str());
  }

  http::DownloadProgress progress;
  http::DownloadOptions base;
  base.method = resolved->method;
  base.resume = o.resume;
  base.parallel_ranges = o.parallel_ranges;
  base.max_redirects = o.max_redirects;
  base.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(o.timeout_s * 1000));
  base.progress = &progress;
  ProgressBar bar(progress);
  if (o.recursive) return run_mirror(o, urls, base);

  // One URL: -o names the file. Several: -o names a directory (default: here).
  const bool into_directory = urls.size() > 1 || (!o.output.empty() && is_directory(o.output));
  std::vector<http::DownloadJob> jobs;
  for (const http::Url& url : urls) {
    http::DownloadJob job{url, base};
    if (!into_directory && !o.output.empty()) {
      job.options.output = o.output;
    } else {
      auto name = local_name(url);
      if (!name) return std::unexpected(name.error());
      job.options.output = (o.output.empty() ? std::string(".") : o.output) + "/" + *name;
    }
    for (const http::DownloadJob& earlier : jobs) {
      // Two downloads into one .part would interleave their bytes.
      if (earlier.options.output == job.options.output) {
        return usage_error("get " + url.str(), "writes " + job.options.output + " as " +
                                                   earlier.url.str() +
                                                   " does; name the files apart");
      }
    }
    jobs.push_back(std::move(job));
  }
  auto results = http::download_all(jobs, o.jobs);
  if (results.size() == 1 && !results[0]) return std::unexpected(std::move(results[0].error()));
  bool failed = false;
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i]) {
      report(o, jobs[i].options.output, *results[i]);
    } else {
      std::fprintf(stderr, "zcopy get: %s\n", results[i].error().message().c_str());
      failed = true;
    }
  }
  return failed ? kExitRuntimeError : kExitOk;
}

}  // namespace

CommandRunner add_get_command(CLI::App& sub) {
  auto o = std::make_shared<GetCommandOptions>();
  sub.add_option("urls", o->urls, "http:// URLs to fetch (https is not supported)");
  sub.add_option("-i,--input", o->input_list, "Read more URLs from FILE, one per line");
  sub.add_option("-o,--output", o->output,
                 "Output file (one URL) or directory (several URLs, or -r; default .)");
  sub.add_flag("-c,--continue", o->resume, "Resume FILE.part with a Range request");
  sub.add_option("-j,--jobs", o->jobs, "Download this many files at once (default 1)")
      ->check(CLI::Range(1, 256));
  sub.add_option("--parallel-ranges", o->parallel_ranges,
                 "Split one large file over K connections (default 1)")
      ->check(CLI::Range(1, 64));
  sub.add_flag("-r,--recursive", o->recursive,
               "Mirror a zcopy serve directory URL (ending in '/') under -o");
  sub.add_option("--method", o->method, "auto, splice, uring or copy (default auto)")
      ->check(accepted_by(http::parse_download_method, "auto, splice, uring or copy"));
  sub.add_flag("--json", o->json, "A JSON record per file on stdout instead of a summary line");
  sub.add_option("--timeout", o->timeout_s, "Seconds to wait for a connection or data (30)")
      ->check(CLI::Range(0.1, 86400.0));
  sub.add_option("--max-redirects", o->max_redirects, "Redirects followed at most (5)")
      ->check(CLI::Range(0, 50));
  sub.add_flag("--bench", o->bench,
               "Benchmark: nginx serves a generated file; fetch it by every method and with curl");
  add_size_option(sub, "--bench-size", o->bench_settings.size, "Benchmark file size (default 2G)");
  sub.add_option("--bench-repeats", o->bench_settings.repeats,
                 "Measured repeats per method after a warm-up (default 5)")
      ->check(CLI::Range(1, 100));
  sub.add_option("--bench-dir", o->bench_settings.directory,
                 "Where the benchmark puts its files (default: a new directory under /tmp)");
  return [o] {
    o->bench_settings.json = o->json;
    return run_get(*o);
  };
}

}  // namespace zc::cli
