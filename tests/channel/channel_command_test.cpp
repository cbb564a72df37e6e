// `zcopy channel pub|sub`, run as a user would: a generated file piped through the real binary
// (ZCOPY_TOOL) arrives byte-exact, by sha256.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/support/data.hpp"
#include "channel/channel_test_support.hpp"
#include "support/capability_gate.hpp"
#include "support/sanitizer.hpp"
#include "support/shell_command.hpp"

namespace {

using namespace std::chrono_literals;
using zc::test::output_of;

std::string tool() {
  return zc::test::zcopy_tool();
}

std::string sha256_of(const std::string& path) {
  std::string digest = output_of("sha256sum '" + path + "' | cut -d' ' -f1");
  while (!digest.empty() && digest.back() == '\n') digest.pop_back();
  return digest;
}

class ChannelCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    ZC_REQUIRE_TOOL();
    ASSERT_FALSE(dir_.path().empty());
  }

  // Writes `size` pseudo-random bytes (not a multiple of any chunk size) to a file.
  std::string generate(std::size_t size) {
    const std::string path = dir_ / "input.bin";
    EXPECT_TRUE(zc::bench::write_random_file(path, size, {.seed = 42}));
    return path;
  }

  // Pipes `input` through a publisher and `subscribers` subscribers; returns "pub,sub,sub..."
  // exit codes.
  std::string pipe_through(const std::string& input, const std::string& pub_options,
                           int subscribers) {
    const std::string name = zc::test::unique_channel("tool");
    std::string script = "codes=''; pids='';";
    for (int i = 0; i < subscribers; ++i) {
      script += "'" + tool() + "' channel sub " + name + " > '" + dir_.path() + "/out" +
                std::to_string(i) + ".bin' 2>/dev/null & pids=\"$pids $!\";";
    }
    script += "'" + tool() + "' channel pub " + name + " --subscribers " +
              std::to_string(subscribers) + " " + pub_options + " < '" + input +
              "' 2>/dev/null; codes=$?;";
    script += "for p in $pids; do wait $p; codes=\"$codes,$?\"; done; echo -n $codes";
    return output_of("sh -c '" + escape(script) + "'");
  }

  static std::string escape(const std::string& text) {
    std::string out;
    for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out;
  }

  zc::bench::TempDir dir_{"zcopy-channel-tool"};
};

TEST_F(ChannelCommand, AFilePipedThroughArrivesByteExactAtEverySubscriber) {
  const std::string input = generate(zc::test::kSanitized ? 1'000'003 : 20'000'003);
  EXPECT_EQ(pipe_through(input, "--chunk-size 4K --chunks 16 --depth 8", 2), "0,0,0");
  const std::string expected = sha256_of(input);
  ASSERT_EQ(expected.size(), 64U);
  EXPECT_EQ(sha256_of(dir_ / "out0.bin"), expected);
  EXPECT_EQ(sha256_of(dir_ / "out1.bin"), expected);
}

TEST_F(ChannelCommand, AnEmptyInputIsAnEmptyStream) {
  const std::string input = generate(0);
  EXPECT_EQ(pipe_through(input, "", 1), "0,0");
  EXPECT_EQ(sha256_of(dir_ / "out0.bin"), sha256_of(input));
}

// Appends what `fd` (non-blocking) has to `text` until `wanted` is in it. False after 10 s: the
// text takes milliseconds to come; only a publisher that holds it back never delivers it.
bool read_until(int fd, std::string& text, std::string_view wanted,
                std::chrono::milliseconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (text.find(wanted) == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left <= 0ms) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buffer[4096];
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) return false;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  return true;
}

// Replaces this (child) process with `zcopy ARGS...`; returns only if that failed.
int exec_tool(std::vector<std::string> args) {
  std::vector<char*> argv{const_cast<char*>("zcopy")};
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  ::execv(tool().c_str(), argv.data());
  return 127;
}

// True once some process listens on channel `name` (/proc/net/unix lists abstract names).
bool channel_listening(const std::string& name) {
  return output_of("grep -c '@zcopy/channel/" + name + "$' /proc/net/unix") != "0\n";
}

TEST_F(ChannelCommand, ALateSubscriberGetsEachLineOfALiveStreamAsItIsWritten) {
  const std::string name = zc::test::unique_channel("live");
  const std::string fifo = dir_.path() + "/live.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // The publisher reads the FIFO and waits for nobody.
  const pid_t publisher = zc::test::spawn([&] {
    const int in = ::open(fifo.c_str(), O_RDONLY);  // until we open the writing end below
    const int quiet = ::open("/dev/null", O_WRONLY);
    if (in < 0 || quiet < 0) return 126;
    ::dup2(in, STDIN_FILENO);
    ::dup2(quiet, STDERR_FILENO);
    return exec_tool({"channel", "pub", name, "--subscribers", "0"});
  });
  ASSERT_GT(publisher, 0);
  const int writer = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(writer, 0);
  auto write_line = [&](std::string_view line) {
    return ::write(writer, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  };
  for (int i = 0; i < 1000 && !channel_listening(name); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(channel_listening(name));

  // The subscriber joins now, late: the publisher is already up and waiting on its input.
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  const pid_t subscriber = zc::test::spawn([&] {
    ::dup2(out[1], STDOUT_FILENO);
    return exec_tool({"channel", "sub", name});
  });
  ASSERT_GT(subscriber, 0);
  ::close(out[1]);
  ASSERT_EQ(::fcntl(out[0], F_SETFL, O_NONBLOCK), 0);

  // Ticks until one reaches the subscriber: from then on it is admitted and every line counts.
  std::string received;
  bool admitted = false;
  for (int i = 0; i < 100 && !admitted; ++i) {
    ASSERT_TRUE(write_line("tick\n"));
    admitted = read_until(out[0], received, "tick\n", 100ms);
  }
  ASSERT_TRUE(admitted) << "no line reached a subscriber that joined while the input was quiet";
  const std::size_t from = received.size();
  // Each line arrives before the next is written: nothing waits for a chunk to fill.
  ASSERT_TRUE(write_line("first line\n"));
  ASSERT_TRUE(read_until(out[0], received, "first line\n")) << received;
  ASSERT_TRUE(write_line("second line\n"));
  ASSERT_TRUE(read_until(out[0], received, "second line\n")) << received;
  ::close(writer);  // end of input: the publisher closes the channel and both exit

  EXPECT_EQ(zc::test::reap(publisher), 0);
  EXPECT_EQ(zc::test::reap(subscriber), 0) << "the subscriber did not see the end of stream";
  char buffer[256];
  for (ssize_t n; (n = ::read(out[0], buffer, sizeof buffer)) > 0;) {
    received.append(buffer, static_cast<std::size_t>(n));
  }
  // A tick still on its way when the first one arrived may come after it; nothing else may.
  std::string_view tail = std::string_view(received).substr(from);
  while (tail.starts_with("tick\n")) tail.remove_prefix(5);
  EXPECT_EQ(tail, "first line\nsecond line\n");
  ::close(out[0]);
}

TEST_F(ChannelCommand, ABadChannelNameIsAUsageErrorWithOneLine) {
  const std::string out =
      output_of("'" + tool() + "' channel sub 'no/slashes' 2>&1; echo \"rc=$?\"");
  EXPECT_NE(out.find("'no/slashes'"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2) << out;  // the error, then rc=
  EXPECT_NE(out.find("\nrc=2\n"), std::string::npos) << out;
}

}  // namespace
