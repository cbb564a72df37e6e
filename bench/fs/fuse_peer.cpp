#include "bench/fs/fuse_peer.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <sstream>
#include <string_view>
#include <thread>
#include <utility>

#include "bench/support/data.hpp"
#include "zcopy/fs/mount.hpp"

namespace zc::bench {
namespace {

Error not_built(const std::string& why) {
  return Error::make(Errc::capability_missing, kFusePeerName, why);
}

// The first line of `text` that holds `word` (a compiler's "In function" lines come before its
// error), else its first line that says anything.
std::string first_line(const std::string& text, std::string_view word = {}) {
  std::istringstream lines(text);
  std::string first;
  for (std::string line; std::getline(lines, line);) {
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (line.find(word) != std::string::npos) return line;
    if (first.empty()) first = line;
  }
  return first.empty() ? "no output" : first;
}

std::string last_line(const std::string& text) {
  std::string line = text;
  while (!line.empty() && line.back() == '\n') line.pop_back();
  const std::size_t at = line.rfind('\n');
  return at == std::string::npos ? line : line.substr(at + 1);
}

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

std::string format_seconds(double seconds) {
  std::ostringstream out;
  out << seconds;
  return out.str();
}

std::vector<std::string> peer_argv(const std::string& binary, const std::string& source,
                                   const std::string& mountpoint, double cache_seconds) {
  return {
      binary,    "-f", "-o", "source=" + source, "-o", "timeout=" + format_seconds(cache_seconds),
      mountpoint};
}

// Something other than the directory beneath is mounted there: a live mount has its own device,
// a dead FUSE daemon's answers ENOTCONN (or, while the kernel ends its queues, ECONNABORTED).
bool mounted_over(const std::string& mountpoint) {
  struct stat below {};
  struct stat at {};
  const std::string parent = std::filesystem::path(mountpoint).parent_path().string();
  if (::stat(parent.c_str(), &below) != 0) return false;
  if (::stat(mountpoint.c_str(), &at) != 0) return errno == ENOTCONN || errno == ECONNABORTED;
  return at.st_dev != below.st_dev;
}

}  // namespace

Result<FusePeerBuild> build_fuse_peer(const std::string& examples, const std::string& scratch) {
  const std::string source = examples + "/" + kFusePeerName + ".c";
  for (const std::string& file : {source, examples + "/passthrough_helpers.h"}) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec))
      return std::unexpected(not_built("no " + file + " (libfuse3-dev ships it)"));
  }
  if (!have_program("cc")) return std::unexpected(not_built("no C compiler (cc) in PATH"));
  if (!have_program("pkg-config")) return std::unexpected(not_built("no pkg-config in PATH"));
  const RunResult flags = run({"pkg-config", "--cflags", "--libs", "fuse3"});
  if (flags.exit_code != 0) {
    return std::unexpected(
        not_built("pkg-config knows no fuse3 (libfuse3-dev): " + first_line(flags.output)));
  }
  const std::vector<std::string> version =
      words(run({"pkg-config", "--modversion", "fuse3"}).output);
  FusePeerBuild built{.binary = scratch + "/" + kFusePeerName,
                      .fuse_version = version.empty() ? "?" : version.front()};
  // Optimized as a release build of libfuse's examples would be.
  std::vector<std::string> argv{"cc", "-O2", "-o", built.binary, source};
  for (std::string& flag : words(flags.output)) argv.push_back(std::move(flag));
  const RunResult compiled = run(argv);
  if (compiled.exit_code != 0)
    return std::unexpected(
        not_built("cc " + source + " failed: " + first_line(compiled.output, "error")));
  return built;
}

std::string FusePeer::arguments(double cache_seconds) {
  std::string line;
  for (const std::string& word : peer_argv(kFusePeerName, "SRC", "MNT", cache_seconds))
    line += (line.empty() ? "" : " ") + word;
  return line;
}

Result<FusePeer> FusePeer::start(const std::string& binary, const std::string& source,
                                 const std::string& mountpoint, double cache_seconds,
                                 const std::string& log) {
  // A group of its own: Ctrl-C reaches the bench, which takes the peer down between two steps;
  // killed with the bench if that dies.
  auto process = Process::spawn(peer_argv(binary, source, mountpoint, cache_seconds),
                                {.out = Output::file,
                                 .err = Output::file,
                                 .file = log,
                                 .own_group = true,
                                 .die_with_parent = true});
  if (!process) return std::unexpected(process.error());
  FusePeer peer(std::move(*process), mountpoint);
  // Milliseconds when it works: a peer that has neither mounted nor exited after 10 s is stuck.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!mounted_over(mountpoint)) {
    if (auto ended = peer.process_.try_wait()) {
      peer.mountpoint_.clear();
      return fail(Errc::system, std::string(kFusePeerName) + " " + mountpoint,
                  "exited with " + std::to_string(ended->code) + ": " + last_line(read_text(log)));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return fail(Errc::timeout, std::string(kFusePeerName) + " " + mountpoint,
                  "not mounted within 10 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return peer;
}

FusePeer::FusePeer(FusePeer&& other) noexcept
    : process_(std::move(other.process_)), mountpoint_(std::exchange(other.mountpoint_, {})) {}

FusePeer::~FusePeer() {
  (void)stop();
}

Result<void> FusePeer::stop() {
  if (mountpoint_.empty()) return {};
  const std::string mountpoint = std::exchange(mountpoint_, {});
  if (process_.running()) {
    process_.signal(SIGTERM);
    if (!process_.wait_for(std::chrono::seconds(10))) process_.kill();
  }
  if (mounted_over(mountpoint)) return fs::unmount(mountpoint);
  return {};
}

}  // namespace zc::bench
