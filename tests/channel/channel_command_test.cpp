// `zcopy channel pub|sub`, run as a user would: a generated file piped through the real binary
// (ZCOPY_TOOL) arrives byte-exact, by sha256.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench/support/data.hpp"
#include "channel/channel_test_support.hpp"
#include "support/capability_gate.hpp"
#include "support/sanitizer.hpp"
#include "support/shell_command.hpp"

namespace {

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

TEST_F(ChannelCommand, ABadChannelNameIsARuntimeErrorWithOneLine) {
  const std::string out = output_of("'" + tool() + "' channel sub 'no/slashes' 2>&1; echo \" $?\"");
  EXPECT_NE(out.find("Subscriber::connect"), std::string::npos) << out;
  EXPECT_NE(out.find(" 1"), std::string::npos) << out;
}

}  // namespace
