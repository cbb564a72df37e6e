#include "get_bench.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "zcopy/core/fd.hpp"
#include "zcopy/http/download.hpp"
#include "zcopy/net/tcp.hpp"

namespace zc::cli {
namespace {

namespace fs = std::filesystem;

// nginx in its own process group, killed with the group when this goes out of scope.
class NginxProcess {
 public:
  static Result<NginxProcess> start(const std::string& dir, const std::string& root) {
    std::uint16_t port = 0;
    {
      auto probe_socket = net::listen_tcp(net::Endpoint{"127.0.0.1", 0});
      if (!probe_socket) return std::unexpected(probe_socket.error());
      port = net::local_address(probe_socket->get())->port();
    }
    const std::string conf = dir + "/nginx.conf";
    std::ofstream(conf) << "daemon off;\nmaster_process on;\nworker_processes 1;\nuser root;\n"
                        << "pid " << dir << "/nginx.pid;\nerror_log " << dir << "/error.log;\n"
                        << "events { worker_connections 64; }\n"
                        << "http {\n  sendfile on;\n  tcp_nopush on;\n  access_log off;\n"
                        << "  default_type application/octet-stream;\n"
                        << "  client_body_temp_path " << dir << ";\n  proxy_temp_path " << dir
                        << ";\n  fastcgi_temp_path " << dir << ";\n  uwsgi_temp_path " << dir
                        << ";\n  scgi_temp_path " << dir << ";\n"
                        << "  server {\n    listen 127.0.0.1:" << port << ";\n    root " << root
                        << ";\n  }\n}\n";
    const pid_t pid = ::fork();
    if (pid < 0) return fail_errno(errno, "fork(nginx)");
    if (pid == 0) {
      ::setpgid(0, 0);
      const std::string error_log = dir + "/error.log";
      ::execlp("nginx", "nginx", "-e", error_log.c_str(), "-p", dir.c_str(), "-c", conf.c_str(),
               static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::setpgid(pid, pid);
    NginxProcess nginx(pid, port);
    for (int i = 0; i < 100; ++i) {
      if (net::connect_tcp({"127.0.0.1", port}, std::chrono::milliseconds(100))) return nginx;
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        nginx.pid_ = -1;
        return fail(
            Errc::capability_missing, "start nginx",
            "nginx exited at start (is Debian's nginx installed? see " + dir + "/error.log)");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return fail(Errc::timeout, "start nginx", "not listening on port " + std::to_string(port));
  }

  NginxProcess(NginxProcess&& other) noexcept
      : pid_(std::exchange(other.pid_, -1)), port_(other.port_) {}
  NginxProcess& operator=(NginxProcess&&) = delete;
  ~NginxProcess() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::uint16_t port() const { return port_; }

 private:
  NginxProcess(pid_t pid, std::uint16_t port) : pid_(pid), port_(port) {}
  pid_t pid_;
  std::uint16_t port_;
};

Result<void> generate_file(const std::string& path, std::uint64_t size) {
  auto file = Fd::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!file) return std::unexpected(file.error());
  std::vector<std::uint64_t> block(512 * 1024);
  std::mt19937_64 random(42);
  for (std::uint64_t done = 0; done < size;) {
    for (auto& word : block) word = random();
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(size - done, block.size() * 8));
    if (::pwrite(file->get(), block.data(), n, static_cast<off_t>(done)) !=
        static_cast<ssize_t>(n)) {
      return fail_errno(errno, "pwrite(" + path + ")");
    }
    done += n;
  }
  return {};
}

struct Sample {
  double bytes_per_s = 0;
  double cpu_s_per_gb = 0;
};

Result<Sample> run_curl(const std::string& url, const std::string& out, std::uint64_t size) {
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) return fail_errno(errno, "fork(curl)");
  if (pid == 0) {
    ::execlp("curl", "curl", "-s", "-f", "-o", out.c_str(), url.c_str(),
             static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  rusage usage{};
  if (::wait4(pid, &status, 0, &usage) != pid) return fail_errno(errno, "wait4(curl)");
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return fail(Errc::rejected, "curl " + url, "exit status " + std::to_string(status));
  }
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  const double cpu = seconds(usage.ru_utime) + seconds(usage.ru_stime);
  const double gb = static_cast<double>(size) / 1e9;
  return Sample{static_cast<double>(size) / wall, cpu / gb};
}

Result<Sample> run_ours(const http::Url& url, const std::string& out, http::DownloadMethod method,
                        std::uint64_t size) {
  // curl does not fsync; neither do we here, so both measure network to page cache.
  http::DownloadOptions options;
  options.output = out;
  options.method = method;
  options.sync = false;
  auto result = http::download(url, options);
  if (!result) return std::unexpected(result.error());
  if (result->file_size != size) {
    return fail(Errc::corrupt, "bench get", "short file: " + std::to_string(result->file_size));
  }
  return Sample{result->ledger.bytes_per_s(), result->ledger.cpu_s_per_gb()};
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace

CommandResult run_get_bench(const GetBenchSettings& settings) {
  std::string dir = settings.directory;
  const bool own_dir = dir.empty();
  if (own_dir) {
    char pattern[] = "/tmp/zcopy-get-bench-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) return fail_errno(errno, "mkdtemp(/tmp)");
    dir = pattern;
  }
  struct Cleanup {
    std::string dir;
    bool own;
    ~Cleanup() {
      std::error_code ignored;
      if (own) fs::remove_all(dir, ignored);
    }
  } cleanup{dir, own_dir};
  fs::create_directories(dir + "/www");
  const std::string source = dir + "/www/data.bin";
  if (auto r = generate_file(source, settings.size); !r) return std::unexpected(r.error());
  auto nginx = NginxProcess::start(dir, dir + "/www");
  if (!nginx) return std::unexpected(nginx.error());
  const std::string url_text = "http://127.0.0.1:" + std::to_string(nginx->port()) + "/data.bin";
  auto url = http::parse_url(url_text);
  if (!url) return std::unexpected(url.error());
  const std::string out = dir + "/out.bin";

  const std::map<std::string, http::DownloadMethod> ours = {
      {"splice", http::DownloadMethod::splice},
      {"uring", http::DownloadMethod::uring},
      {"copy", http::DownloadMethod::copy},
  };
  // Warm-up: the source into the page cache, and every path once.
  if (auto r = run_ours(*url, out, http::DownloadMethod::splice, settings.size); !r) {
    return std::unexpected(r.error());
  }
  std::map<std::string, std::vector<Sample>> samples;
  // The order rotates every repeat, so no method always runs right after another's writeback.
  const std::vector<std::string> order = {"splice", "uring", "copy", "curl"};
  for (unsigned repeat = 0; repeat < settings.repeats; ++repeat) {
    for (std::size_t k = 0; k < order.size(); ++k) {
      const std::string& name = order[(k + repeat) % order.size()];
      fs::remove(out);
      Result<Sample> s = name == "curl" ? run_curl(url_text, out, settings.size)
                                        : run_ours(*url, out, ours.at(name), settings.size);
      if (!s) return std::unexpected(s.error());
      samples[name].push_back(*s);
    }
  }
  fs::remove(out);

  auto medians = [&](const std::string& name) {
    std::vector<double> rate, cpu;
    for (const Sample& s : samples[name]) {
      rate.push_back(s.bytes_per_s);
      cpu.push_back(s.cpu_s_per_gb);
    }
    return Sample{median(rate), median(cpu)};
  };
  const Sample curl = medians("curl");
  if (!settings.json) {
    std::printf(
        "zcopy get vs curl: %s from nginx (sendfile on) on 127.0.0.1, median of %u after a "
        "warm-up, no fsync in either\n",
        format_bytes(settings.size).c_str(), settings.repeats);
    std::printf("%-8s %12s %12s %12s %12s\n", "method", "MB/s", "CPU s/GB", "x curl MB/s",
                "x curl CPU");
  }
  for (const std::string name : {"splice", "uring", "copy", "curl"}) {
    const Sample m = medians(name);
    if (settings.json) {
      JsonRecord record = bench_record("get-file", name, settings.size);
      record.add("bytes_per_s", m.bytes_per_s)
          .add("cpu_s_per_gb", m.cpu_s_per_gb)
          .add("throughput_vs_curl", m.bytes_per_s / curl.bytes_per_s)
          .add("cpu_vs_curl", m.cpu_s_per_gb / curl.cpu_s_per_gb)
          .add("repeats", static_cast<std::uint64_t>(settings.repeats));
      std::printf("%s\n", record.str().c_str());
    } else {
      std::printf("%-8s %12.0f %12.3f %12.2f %12.2f\n", name.c_str(), m.bytes_per_s / 1e6,
                  m.cpu_s_per_gb, m.bytes_per_s / curl.bytes_per_s,
                  m.cpu_s_per_gb / curl.cpu_s_per_gb);
    }
  }
  return kExitOk;
}

}  // namespace zc::cli
