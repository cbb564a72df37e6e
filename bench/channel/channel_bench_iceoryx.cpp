// Eclipse iceoryx as the `iceoryx` method of the channel bench: RouDi started with one mempool
// sized for the message, the peer program (iceoryx/iceoryx_peer.cpp) run against it, RouDi
// stopped. The peer follows the rules of every other method; this side only starts, stops and
// reads one line.
#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "bench/channel/channel_bench_harness.hpp"
#include "bench/support/data.hpp"
#include "bench/support/process.hpp"
#include "zcopy/core/fd.hpp"

namespace zc::bench {
namespace {

constexpr const char* kPeer = "zcopy-iceoryx-peer";
constexpr const char* kRoudi = "iox-roudi";
constexpr auto kRoudiStart = std::chrono::seconds(10);
constexpr std::uint64_t kSmallPool = 128;
constexpr const char* kRoudiLock = "/tmp/zcopy-iceoryx-roudi.lock";
constexpr auto kRoudiTurn = std::chrono::seconds(300);

// The peer beside this executable (the build tree, or where both were installed).
std::string peer_path() {
  const std::string self = self_executable();
  return self.substr(0, self.rfind('/') + 1) + kPeer;
}

// RouDi and the peer's workspace for one measurement; RouDi is stopped when this ends.
class Roudi {
 public:
  // Starts RouDi with chunks of at least `payload` bytes, `count` of them (and a few small ones for
  // the end-of-stream message), and waits until it takes clients.
  static Result<Roudi> start(std::uint64_t payload, std::uint64_t count) {
    // RouDi is one per machine: two benches (or two tests) must take turns.
    auto lock = Fd::open(kRoudiLock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (!lock) return std::unexpected(lock.error());
    const auto wait_until = Clock::now() + kRoudiTurn;
    while (::flock(lock->get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK && errno != EINTR)
        return fail_errno(errno, "flock(" + std::string(kRoudiLock) + ")");
      if (Clock::now() > wait_until) {
        return fail(Errc::timeout, kRoudi,
                    "another iceoryx measurement held " + std::string(kRoudiLock) + " too long");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    auto dir = TempDir::create("zcopy-iceoryx");
    if (!dir) return std::unexpected(dir.error());
    const std::string config = *dir / "roudi.toml";
    const std::string log = *dir / "roudi.log";
    {
      // Mempools ascend by size, and a loan takes the smallest that fits: small payloads share
      // the 128-byte pool with the end-of-stream message. Sizes are whole cache lines.
      const std::uint64_t size = std::max<std::uint64_t>(kSmallPool, (payload + 63) / 64 * 64);
      std::ofstream out(config);
      out << "[general]\nversion = 1\n\n[[segment]]\n\n";
      if (size > kSmallPool) out << "[[segment.mempool]]\nsize = 128\ncount = 16\n\n";
      out << "[[segment.mempool]]\nsize = " << size << "\ncount = " << count + 16 << "\n";
      if (!out) return fail(Errc::system, "write " + config, "cannot write the RouDi config");
    }
    auto roudi = Process::spawn({kRoudi, "-m", "off", "-l", "warning", "-c", config},
                                {.out = Output::file, .err = Output::file, .file = log});
    if (!roudi) return std::unexpected(roudi.error());
    Roudi r(std::move(*lock), std::move(*dir), std::move(*roudi));
    const auto give_up = Clock::now() + kRoudiStart;
    for (;;) {
      std::ifstream in(log);
      const std::string text{std::istreambuf_iterator<char>(in), {}};
      if (text.find("RouDi is ready for clients") != std::string::npos) return r;
      if (!r.roudi_.running() || r.roudi_.try_wait() || Clock::now() > give_up) {
        return fail(
            Errc::system, kRoudi,
            "did not become ready: " + text.substr(text.size() > 300 ? text.size() - 300 : 0));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  Roudi(Roudi&&) noexcept = default;
  Roudi& operator=(Roudi&&) = delete;
  ~Roudi() {
    if (roudi_.running()) (void)roudi_.stop(SIGTERM);
  }

  // Runs the peer with `args` and returns the one line it prints.
  Result<std::string> run_peer(const std::vector<std::string>& args) {
    std::vector<std::string> argv{peer_path()};
    argv.insert(argv.end(), args.begin(), args.end());
    const RunResult ran = run(argv, false);
    if (ran.exit_code != 0) {
      return fail(Errc::system, kPeer,
                  "exit code " + std::to_string(ran.exit_code) + " for " + args.front());
    }
    return ran.output;
  }

 private:
  Roudi(Fd lock, TempDir dir, Process roudi) noexcept
      : lock_(std::move(lock)), dir_(std::move(dir)), roudi_(std::move(roudi)) {}
  Fd lock_;  // flock()ed while our RouDi runs; declared first, so released last
  TempDir dir_;
  Process roudi_;
};

std::string number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

}  // namespace

std::optional<std::string> iceoryx_missing() {
  if (!have_program(kRoudi)) {
    return std::string(kRoudi) + " is not installed (scripts/install-deps.sh installs iceoryx)";
  }
  if (!have_program(peer_path())) {
    return peer_path() +
           " was not built (needs libiceoryx-posh-dev at configure time; scripts/install-deps.sh)";
  }
  return std::nullopt;
}

Result<ThroughputFigures> iceoryx_throughput(std::uint64_t size, const BenchTiming& timing,
                                             std::uint64_t queue) {
  if (auto missing = iceoryx_missing()) {
    return fail(Errc::capability_missing, "iceoryx", *missing);
  }
  auto roudi = Roudi::start(size, queue + kChunksBeyondQueue);
  if (!roudi) return std::unexpected(roudi.error());
  auto line = roudi->run_peer({"throughput", std::to_string(size), number(timing.warmup_s),
                               number(timing.measure_s), std::to_string(queue)});
  if (!line) return std::unexpected(line.error());
  ThroughputFigures f;
  std::istringstream in(*line);
  if (!(in >> f.messages >> f.seconds >> f.cpu_seconds)) {
    return fail(Errc::system, kPeer, "unexpected output '" + *line + "'");
  }
  f.bytes = f.messages * size;
  f.chunk_bytes = size;
  f.queue = queue;
  return f;
}

Result<LatencyFigures> iceoryx_latency(std::uint64_t size, const BenchTiming& timing, bool busy) {
  if (auto missing = iceoryx_missing()) {
    return fail(Errc::capability_missing, "iceoryx", *missing);
  }
  auto roudi = Roudi::start(size, 16);
  if (!roudi) return std::unexpected(roudi.error());
  auto line = roudi->run_peer({"latency", std::to_string(size), number(timing.warmup_s),
                               number(timing.measure_s), busy ? "busy" : "wake"});
  if (!line) return std::unexpected(line.error());
  LatencyFigures f;
  std::istringstream in(*line);
  if (!(in >> f.round_trips >> f.p50_ns >> f.p99_ns >> f.p999_ns >> f.max_ns)) {
    return fail(Errc::system, kPeer, "unexpected output '" + *line + "'");
  }
  f.queue = 4;  // as the zcopy ping-pong channels (iceoryx_peer.cpp)
  return f;
}

}  // namespace zc::bench
