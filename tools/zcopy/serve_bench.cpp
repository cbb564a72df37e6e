// zcopy serve bench: `zcopy serve` against nginx on loopback, in one run, with the same clients.
//
// Throughput: curl downloads one cached file (2 GiB by default) to /dev/null from each server
// (ours with every body method, and nginx with sendfile on and tcp_nopush on); we time curl and
// read each server's CPU time (user + system, every thread and nginx worker) from /proc around
// the download. Servers run on CPU 0 and curl on CPU 1, so that CPU 0's softirq time, the
// receive-side work the kernel runs inline in the sender, can be told apart from the server's own.
// Requests/s: wrk with keep-alive fetches a 4 KiB file from ours and from nginx. Every figure is
// the median of --repeats runs after one warm-up run. Both servers log every request to a file,
// buffered (ours per event loop, nginx with buffer=64k), and run two workers.
#include "serve_bench.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "options.hpp"
#include "table.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/net/tcp.hpp"
#include "zcopy/net/transfer_ledger.hpp"

namespace zc::cli {
namespace {

using Clock = std::chrono::steady_clock;

// A child process started with argv; stdout can be a pipe we read the first line from.
class Child {
 public:
  Child() = default;
  // `cpu` >= 0 pins the child (and everything it starts) to that CPU.
  Child(const std::vector<std::string>& argv, const std::string& out_path, bool pipe_stdout,
        int cpu = -1) {
    int fds[2] = {-1, -1};
    if (pipe_stdout && ::pipe2(fds, O_CLOEXEC) != 0) return;
    std::fflush(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(static_cast<unsigned>(cpu), &set);
        ::sched_setaffinity(0, sizeof set, &set);
      }
      const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(pipe_stdout ? fds[1] : out, STDOUT_FILENO);
      ::dup2(out, STDERR_FILENO);
      std::vector<char*> args;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
    if (pipe_stdout) {
      ::close(fds[1]);
      stdout_ = Fd::adopt(fds[0]);
    }
  }
  Child(Child&& other) noexcept
      : pid_(std::exchange(other.pid_, -1)), stdout_(std::move(other.stdout_)) {}
  Child& operator=(Child&& other) noexcept {
    if (this != &other) {
      stop(SIGKILL);
      pid_ = std::exchange(other.pid_, -1);
      stdout_ = std::move(other.stdout_);
    }
    return *this;
  }
  ~Child() { stop(SIGTERM); }  // nginx's master takes its workers down on SIGTERM

  pid_t pid() const { return pid_; }
  std::string first_line(int timeout_ms) {
    std::string line;
    pollfd p{.fd = stdout_.get(), .events = POLLIN, .revents = 0};
    while (line.find('\n') == std::string::npos && ::poll(&p, 1, timeout_ms) > 0) {
      char c[256];
      const ssize_t n = ::read(stdout_.get(), c, sizeof c);
      if (n <= 0) break;
      line.append(c, static_cast<std::size_t>(n));
    }
    return line.substr(0, line.find('\n'));
  }
  int wait() {
    int status = 0;
    if (pid_ <= 0) return -1;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  void stop(int signal = SIGTERM) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    wait();
  }

 private:
  pid_t pid_ = -1;
  Fd stdout_;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// utime and stime of one process (all its threads), in seconds.
net::CpuTime process_cpu(pid_t pid) {
  const std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
  const std::size_t close = stat.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream fields(stat.substr(close + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;  // fields 3..13
  double utime = 0;
  double stime = 0;
  fields >> utime >> stime;
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  return {.user_s = utime / tick, .system_s = stime / tick};
}

// Servers run on CPU 0 and curl on CPU 1 (when there are two), so that the softirq time CPU 0
// accrues during a download is the receive-side TCP work the kernel runs inline in the sending
// server and charges to it; it is reported beside the server's CPU and taken out of "own".
int server_cpu() {
  return ::sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? 0 : -1;
}
int client_cpu() {
  return ::sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? 1 : -1;
}

// Seconds of softirq time on `cpu` (all CPUs for -1) since boot, from /proc/stat.
double softirq_seconds(int cpu) {
  std::istringstream stat(slurp("/proc/stat"));
  const std::string want = cpu < 0 ? "cpu" : "cpu" + std::to_string(cpu);
  for (std::string line; std::getline(stat, line);) {
    std::istringstream fields(line);
    std::string name;
    fields >> name;
    if (name != want) continue;
    double value = 0;
    for (int i = 0; i < 7; ++i) fields >> value;  // user nice system idle iowait irq softirq
    return value / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }
  return 0;
}

// A server process and, for nginx, its workers.
net::CpuTime tree_cpu(pid_t pid) {
  net::CpuTime total = process_cpu(pid);
  std::istringstream children(
      slurp("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children"));
  for (pid_t child = 0; children >> child;) {
    const net::CpuTime c = process_cpu(child);
    total.user_s += c.user_s;
    total.system_s += c.system_s;
  }
  return total;
}

std::uint16_t free_port() {
  auto probe = net::listen_tcp(net::Endpoint{"127.0.0.1", 0});
  if (!probe) return 0;
  return net::local_address(probe->get())->port();
}

bool wait_listening(const std::string& host, std::uint16_t port) {
  for (int i = 0; i < 200; ++i) {
    if (net::connect_tcp({host, port}, std::chrono::milliseconds(100))) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

struct Server {
  std::string label;  // "serve sendfile", "nginx"
  std::string method;
  Child process;
  std::string url;
};

// Our own binary by name: "/proc/self/exe" would mean `ip` once `ip netns exec` runs it.
std::string self_path() {
  char path[4096];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  return n > 0 ? std::string(path, static_cast<std::size_t>(n)) : "/proc/self/exe";
}

// Where the servers run: this namespace's loopback, or a namespace behind a veth pair.
struct Place {
  std::vector<std::string> prefix;  // "ip netns exec NS" or nothing
  std::string host = "127.0.0.1";

  std::vector<std::string> argv(std::vector<std::string> command) const {
    command.insert(command.begin(), prefix.begin(), prefix.end());
    return command;
  }
};

bool sh(const std::string& command) {
  Child c({"sh", "-c", command}, "/dev/null", false);
  return c.wait() == 0;
}

// A namespace with one end of a veth pair; the other end stays here. Removed on destruction.
class VethPlace {
 public:
  VethPlace() {
    const std::string id = std::to_string(::getpid() % 100000);
    const std::string net = "10.202." + std::to_string(::getpid() % 250) + ".";
    ns_ = "zcbench" + id;
    outer_ = "zcba" + id;
    const std::string inner = "zcbb" + id;
    place_.prefix = {"ip", "netns", "exec", ns_};
    place_.host = net + "2";
    ok_ = sh("ip netns add " + ns_) &&
          sh("ip link add " + outer_ + " type veth peer name " + inner) &&
          sh("ip link set " + inner + " netns " + ns_) &&
          sh("ip addr add " + net + "1/30 dev " + outer_) && sh("ip link set " + outer_ + " up") &&
          sh("ip -n " + ns_ + " addr add " + place_.host + "/30 dev " + inner) &&
          sh("ip -n " + ns_ + " link set " + inner + " up") &&
          sh("ip -n " + ns_ + " link set lo up");
  }
  ~VethPlace() {
    sh("ip netns del " + ns_ + " 2>/dev/null");
    sh("ip link del " + outer_ + " 2>/dev/null");
  }
  VethPlace(const VethPlace&) = delete;
  VethPlace& operator=(const VethPlace&) = delete;
  bool ok() const { return ok_; }
  const Place& place() const { return place_; }

 private:
  std::string ns_;
  std::string outer_;
  Place place_;
  bool ok_ = false;
};

Result<Server> start_zcopy(const Place& place, const std::string& dir, const std::string& work,
                           const std::string& method) {
  Server s{.label = "serve " + method, .method = method, .process = {}, .url = {}};
  s.process =
      Child(place.argv({self_path(), "serve", dir, "--bind", place.host, "--port", "0", "--method",
                        method, "--access-log", work + "/access-" + method + ".log"}),
            work + "/serve-" + method + ".err", true, server_cpu());
  const std::string line = s.process.first_line(10000);
  const std::size_t space = line.rfind(' ');
  if (line.rfind("serving ", 0) != 0 || space == std::string::npos)
    return fail(Errc::rejected, "zcopy serve --method " + method,
                "did not start: " + slurp(work + "/serve-" + method + ".err"));
  s.url = line.substr(space + 1);
  return s;
}

Result<Server> start_nginx(const Place& place, const std::string& dir, const std::string& work) {
  const std::uint16_t port = free_port();
  const std::string conf = work + "/nginx.conf";
  std::ofstream out(conf);
  out << "daemon off;\nmaster_process on;\nworker_processes 2;\nuser root;\n"
      << "pid " << work << "/nginx.pid;\nerror_log " << work << "/nginx-error.log;\n"
      << "events { worker_connections 4096; }\nhttp {\n"
      << "  log_format common '$remote_addr - $remote_user [$time_local] \"$request\" $status "
         "$body_bytes_sent';\n"
      << "  access_log " << work << "/nginx-access.log common buffer=64k flush=1s;\n"
      << "  sendfile on;\n  tcp_nopush on;\n  tcp_nodelay on;\n  keepalive_requests 1000000;\n"
      << "  default_type application/octet-stream;\n"
      << "  client_body_temp_path " << work << "/nginx-body;\n"
      << "  proxy_temp_path " << work << "/nginx-proxy;\n"
      << "  fastcgi_temp_path " << work << "/nginx-fastcgi;\n"
      << "  uwsgi_temp_path " << work << "/nginx-uwsgi;\n"
      << "  scgi_temp_path " << work << "/nginx-scgi;\n"
      << "  server {\n    listen " << place.host << ":" << port << ";\n    root " << dir
      << ";\n  }\n}\n";
  out.close();
  Server s{.label = "nginx", .method = "nginx-sendfile", .process = {}, .url = {}};
  s.process = Child(place.argv({"nginx", "-e", work + "/nginx-error.log", "-p", work, "-c", conf}),
                    work + "/nginx.out", false, server_cpu());
  if (!wait_listening(place.host, port))
    return fail(Errc::rejected, "nginx", "did not start: " + slurp(work + "/nginx-error.log"));
  s.url = "http://" + place.host + ":" + std::to_string(port) + "/";
  return s;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Download {
  net::TransferLedger ledger;
  double softirq_s = 0;  // on the server's CPU during the download
};

// One curl download to /dev/null: the server's ledger for it (CPU from /proc, wall from curl).
Result<Download> download(Server& s, const std::string& work, std::uint64_t size) {
  const net::CpuTime before = tree_cpu(s.process.pid());
  const double softirq_before = softirq_seconds(server_cpu());
  const auto start = Clock::now();
  Child curl({"curl", "-sS", "-o", "/dev/null", s.url + "big.bin"}, work + "/curl.out", false,
             client_cpu());
  const int code = curl.wait();
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  if (code != 0)
    return fail(Errc::rejected, "curl " + s.url + "big.bin", slurp(work + "/curl.out"));
  const net::CpuTime after = tree_cpu(s.process.pid());
  const double softirq = softirq_seconds(server_cpu()) - softirq_before;
  const bool zero_copy = s.method != "copy";
  return Download{
      .ledger =
          net::TransferLedger{.method = s.method,
                              .bytes = size,
                              .bytes_zero_copy = zero_copy ? size : 0,
                              .bytes_copied_user = 0,
                              // read + send for copy; curl's copy is curl's (transfer_ledger.hpp)
                              .bytes_copied_kernel = zero_copy ? 0 : 2 * size,
                              .wall_s = wall,
                              .cpu_user_s = after.user_s - before.user_s,
                              .cpu_system_s = after.system_s - before.system_s},
      .softirq_s = softirq};
}

std::optional<double> wrk_requests_per_s(const Server& s, const ServeBenchSettings& settings,
                                         const std::string& work) {
  Child wrk({"wrk", "-t1", "-c" + std::to_string(settings.wrk_connections),
             "-d" + std::to_string(settings.wrk_seconds) + "s", s.url + "small.bin"},
            work + "/wrk.out", false);
  if (wrk.wait() != 0) return std::nullopt;
  const std::string out = slurp(work + "/wrk.out");
  const std::size_t at = out.find("Requests/sec:");
  if (at == std::string::npos) return std::nullopt;
  return std::strtod(out.c_str() + at + 13, nullptr);
}

Result<void> write_file(const std::string& path, std::uint64_t size) {
  auto fd = Fd::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!fd) return std::unexpected(fd.error());
  std::vector<std::uint64_t> block(1 << 17);
  std::uint64_t x = 88172645463325252ULL;
  for (auto& w : block) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    w = x;
  }
  const std::size_t block_bytes = block.size() * sizeof(std::uint64_t);
  for (std::uint64_t done = 0; done < size;) {
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(block_bytes, size - done));
    const ssize_t w = ::write(fd->get(), block.data(), n);
    if (w <= 0) return fail_errno(errno, "write(" + path + ")");
    done += static_cast<std::uint64_t>(w);
    block[done / 8 % block.size()] ^= done;  // no two blocks alike
  }
  // Read it back once so every run finds it in the page cache.
  auto in = Fd::open(path, O_RDONLY);
  if (!in) return std::unexpected(in.error());
  while (::read(in->get(), block.data(), block_bytes) > 0) {
  }
  return {};
}

bool have(const char* program) {
  Child c({"sh", "-c", std::string("command -v ") + program}, "/dev/null", false);
  return c.wait() == 0;
}

}  // namespace

void add_serve_bench_options(CLI::App& app, ServeBenchSettings& s) {
  add_size_option(app, "--size", s.size, "Size of the large file (default 2G)", 1);
  app.add_option("--repeats", s.repeats, "Measured runs per server after a warm-up (default 3)")
      ->check(CLI::Range(1, 100));
  app.add_option("--wrk-seconds", s.wrk_seconds, "Seconds per wrk run (default 5)")
      ->check(CLI::Range(1, 3600));
  app.add_option("--wrk-connections", s.wrk_connections, "wrk connections (default 32)")
      ->check(CLI::Range(1, 10000));
  app.add_flag("--no-wrk", s.skip_wrk, "Skip the 4 KiB requests/s comparison");
  app.add_flag("--veth", s.veth,
               "Run the servers in a network namespace reached over a veth pair (needs root)");
  app.add_flag("--json", s.json, "One JSON record per line instead of tables");
}

CommandResult run_serve_bench(const ServeBenchSettings& settings) {
  for (const char* program : {"curl", "nginx", "wrk"}) {
    if (!have(program)) {
      std::fprintf(stderr, "zcopy serve bench: needs %s (scripts/install-deps.sh installs it)\n",
                   program);
      return kExitMissingCapability;
    }
  }
  char pattern[] = "/tmp/zcopy-serve-bench-XXXXXX";
  if (!::mkdtemp(pattern)) return fail_errno(errno, "mkdtemp");
  const std::string work = pattern;
  const std::string dir = work + "/www";
  ::mkdir(dir.c_str(), 0755);
  struct Cleanup {
    std::string path;
    ~Cleanup() {
      Child rm({"rm", "-rf", path}, "/dev/null", false);
      rm.wait();
    }
  } cleanup{work};
  if (auto w = write_file(dir + "/big.bin", settings.size); !w) return std::unexpected(w.error());
  if (auto w = write_file(dir + "/small.bin", 4096); !w) return std::unexpected(w.error());

  std::optional<VethPlace> veth;
  Place place;
  if (settings.veth) {
    veth.emplace();
    if (!veth->ok())
      return fail(
          Errc::capability_missing, "serve bench --veth",
          "could not create a namespace and a veth pair (needs CAP_NET_ADMIN and iproute2)");
    place = veth->place();
  }
  std::vector<Server> servers;
  for (const char* method : {"sendfile", "splice", "uring", "copy"}) {
    auto s = start_zcopy(place, dir, work, method);
    if (!s) return std::unexpected(s.error());
    servers.push_back(std::move(*s));
  }
  auto nginx = start_nginx(place, dir, work);
  if (!nginx) return std::unexpected(nginx.error());
  servers.push_back(std::move(*nginx));

  // Interleaved rounds (a warm-up, then the measured ones), so machine noise hits every server
  // alike.
  std::vector<std::vector<Download>> runs(servers.size());
  for (int round = 0; round <= settings.repeats; ++round) {
    // Each round starts with a different server, so no server always follows the same one.
    for (std::size_t k = 0; k < servers.size(); ++k) {
      const std::size_t i = (k + static_cast<std::size_t>(round)) % servers.size();
      auto ledger = download(servers[i], work, settings.size);
      if (!ledger) return std::unexpected(ledger.error());
      if (round > 0) runs[i].push_back(*ledger);
    }
  }
  std::vector<net::TransferLedger> medians;
  std::vector<double> softirq_per_gb;  // median softirq s/GB on the server's CPU
  for (std::size_t i = 0; i < servers.size(); ++i) {
    std::vector<double> walls;
    std::vector<double> cpus;
    std::vector<double> softirqs;
    for (const auto& d : runs[i]) {
      walls.push_back(d.ledger.wall_s);
      cpus.push_back(d.ledger.cpu_s());
      softirqs.push_back(d.softirq_s);
    }
    softirq_per_gb.push_back(median(softirqs) / (static_cast<double>(settings.size) * 1e-9));
    net::TransferLedger m = runs[i].front().ledger;
    m.wall_s = median(walls);
    const double cpu = median(cpus);
    const double share = m.cpu_s() > 0 ? m.cpu_user_s / m.cpu_s() : 0;
    m.cpu_user_s = cpu * share;
    m.cpu_system_s = cpu - m.cpu_user_s;
    medians.push_back(m);
  }
  const net::TransferLedger& nginx_ledger = medians.back();
  const net::TransferLedger& copy_ledger = medians[3];
  // The server's CPU without the receive-side softirq work charged to it (never below zero:
  // softirq that ran while the CPU was otherwise idle is not the server's).
  auto own_per_gb = [&](std::size_t i) {
    return std::max(0.0, medians[i].cpu_s_per_gb() - softirq_per_gb[i]);
  };
  const double copy_own = own_per_gb(3);
  auto ratio_or_zero = [](double a, double b) { return b > 0 ? a / b : 0.0; };

  std::optional<double> ours_rps;
  std::optional<double> nginx_rps;
  if (!settings.skip_wrk) {
    std::vector<double> ours;
    std::vector<double> theirs;
    for (int round = 0; round <= settings.repeats; ++round) {
      // Alternate who goes first.
      std::optional<double> a;
      std::optional<double> b;
      if (round % 2 == 0) {
        a = wrk_requests_per_s(servers[0], settings, work);
        b = wrk_requests_per_s(servers.back(), settings, work);
      } else {
        b = wrk_requests_per_s(servers.back(), settings, work);
        a = wrk_requests_per_s(servers[0], settings, work);
      }
      if (!a || !b) return fail(Errc::rejected, "wrk", slurp(work + "/wrk.out"));
      if (round > 0) {
        ours.push_back(*a);
        theirs.push_back(*b);
      }
    }
    ours_rps = median(ours);
    nginx_rps = median(theirs);
  }

  if (settings.json) {
    for (std::size_t i = 0; i < servers.size(); ++i) {
      JsonRecord r = medians[i].record(settings.veth ? "serve-veth" : "serve-loopback");
      r.add("server", servers[i].label)
          .add("vs_nginx_throughput", medians[i].bytes_per_s() / nginx_ledger.bytes_per_s())
          .add("vs_copy_cpu", medians[i].cpu_s_per_gb() / copy_ledger.cpu_s_per_gb())
          .add("softirq_s_per_gb", softirq_per_gb[i])
          .add("own_cpu_s_per_gb", own_per_gb(i))
          .add("vs_copy_own_cpu", ratio_or_zero(own_per_gb(i), copy_own))
          .add("pinned", server_cpu() >= 0)
          .add("repeats", settings.repeats);
      std::puts(r.str().c_str());
    }
    if (ours_rps) {
      for (const auto& [label, rps] :
           {std::pair{"serve auto", *ours_rps}, std::pair{"nginx", *nginx_rps}}) {
        JsonRecord r =
            bench_record(settings.veth ? "serve-wrk-4k-veth" : "serve-wrk-4k", label, 4096);
        r.add("ops_per_s", rps)
            .add("vs_nginx", rps / *nginx_rps)
            .add("connections", settings.wrk_connections);
        std::puts(r.str().c_str());
      }
    }
    return kExitOk;
  }
  std::printf(
      "zcopy serve bench: %s cached file over %s, curl to /dev/null, median of %d "
      "after a warm-up (shared machine: figures are noisy)\n",
      format_bytes(settings.size).c_str(), settings.veth ? "a veth pair" : "loopback",
      settings.repeats);
  Table t({"server", "throughput", "vs nginx", "CPU s/GB", "vs copy", "softirq", "own",
           "own vs copy", "zero-copy", "copied (kernel)"});
  for (std::size_t i = 0; i < servers.size(); ++i) {
    const net::TransferLedger& m = medians[i];
    t.add_row(
        {servers[i].label, format_rate(m.bytes_per_s()),
         fixed(m.bytes_per_s() / nginx_ledger.bytes_per_s(), 2) + "x", fixed(m.cpu_s_per_gb(), 3),
         fixed(m.cpu_s_per_gb() / copy_ledger.cpu_s_per_gb(), 2) + "x", fixed(softirq_per_gb[i], 3),
         fixed(own_per_gb(i), 3), fixed(ratio_or_zero(own_per_gb(i), copy_own), 2) + "x",
         format_bytes(m.bytes_zero_copy), format_bytes(m.bytes_copied_kernel)});
  }
  t.print(stdout);
  std::printf(
      "  CPU: the server's user+sys; softirq: receive-side TCP work on the server's CPU during "
      "the download, which the kernel charges to the sender; own: CPU minus softirq%s\n",
      server_cpu() >= 0 ? " (servers on CPU 0, curl on CPU 1)" : " (one CPU: not separable)");
  if (ours_rps) {
    std::printf(
        "wrk 4 KiB keep-alive, %d connections, %d s: serve %.0f req/s, nginx %.0f req/s "
        "(%.2fx)\n",
        settings.wrk_connections, settings.wrk_seconds, *ours_rps, *nginx_rps,
        *ours_rps / *nginx_rps);
  }
  return kExitOk;
}

}  // namespace zc::cli
