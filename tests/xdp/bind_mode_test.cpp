// The bind order on veth, which has no zero-copy: the zero-copy bind is refused with the driver's
// reason, automatic mode falls back to native copy and says why, skb mode works too; and the
// program leaves the interface with its owner, also when the owner is killed.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include "xdp_test_support.hpp"
#include "zcopy/xdp/redirect_program.hpp"
#include "zcopy/xdp/socket.hpp"
#include "zcopy/xdp/umem.hpp"

namespace zc::xdp {
namespace {

using test::VethPair;

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

class XdpBindMode : public ::testing::Test {
 protected:
  void SetUp() override {
    ZC_REQUIRE_XDP_ON_VETH();
    link_ = std::make_unique<VethPair>();
    ASSERT_TRUE(link_->ok()) << link_->why();
    inside_ = std::make_unique<test::ThreadInNamespace>(link_->netns_path(VethPair::a));
    ASSERT_TRUE(inside_->ok());
  }
  void TearDown() override {
    inside_.reset();
    link_.reset();
  }
  const std::string& name() const { return link_->name(VethPair::a); }

  std::unique_ptr<VethPair> link_;
  std::unique_ptr<test::ThreadInNamespace> inside_;
};

TEST_F(XdpBindMode, ZeroCopyOnVethIsRefusedWithTheDriversReason) {
  auto umem = Umem::create({.frame_count = 256, .fill_ring_size = 128});
  ASSERT_TRUE(umem) << umem.error().message();
  auto program = RedirectProgram::attach(name(), ModeChoice::zero_copy);
  ASSERT_TRUE(program) << program.error().message();
  EXPECT_TRUE(program->native());
  auto socket = Socket::open(*umem, *program, {.mode = ModeChoice::zero_copy});
  ASSERT_FALSE(socket);
  EXPECT_EQ(socket.error().code(), Errc::capability_missing);
  const std::string message = socket.error().message();
  EXPECT_TRUE(contains(message, "bind(XDP_ZEROCOPY)")) << message;
  EXPECT_TRUE(contains(message, "EOPNOTSUPP")) << message;
  EXPECT_TRUE(contains(message, "veth")) << message;
  EXPECT_TRUE(contains(message, "no AF_XDP zero-copy")) << message;
}

TEST_F(XdpBindMode, AutomaticFallsBackToNativeCopyAndSaysWhyInOneLine) {
  auto umem = Umem::create({.frame_count = 256, .fill_ring_size = 128});
  ASSERT_TRUE(umem) << umem.error().message();
  auto program = RedirectProgram::attach(name());
  ASSERT_TRUE(program) << program.error().message();
  auto socket = Socket::open(*umem, *program);
  ASSERT_TRUE(socket) << socket.error().message();
  EXPECT_EQ(socket->mode(), BindMode::native_copy);
  const std::string& line = socket->mode_line();
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_TRUE(contains(line, name() + " queue 0: native copy mode")) << line;
  EXPECT_TRUE(contains(line, "zero-copy refused")) << line;
  EXPECT_TRUE(contains(line, "EOPNOTSUPP")) << line;

  ASSERT_EQ(test::send_from(*link_, VethPair::b, 100, 64), 0);
  EXPECT_EQ(test::receive_frames(*socket, 100).size(), 100u);
}

TEST_F(XdpBindMode, SkbCopyModeReceivesToo) {
  auto umem = Umem::create({.frame_count = 256, .fill_ring_size = 128});
  ASSERT_TRUE(umem) << umem.error().message();
  auto program = RedirectProgram::attach(name(), ModeChoice::skb_copy);
  ASSERT_TRUE(program) << program.error().message();
  EXPECT_FALSE(program->native());
  EXPECT_TRUE(contains(program->describe(), "skb mode")) << program->describe();
  auto socket = Socket::open(*umem, *program, {.mode = ModeChoice::skb_copy});
  ASSERT_TRUE(socket) << socket.error().message();
  EXPECT_EQ(socket->mode(), BindMode::skb_copy);
  EXPECT_TRUE(contains(socket->mode_line(), "skb copy mode")) << socket->mode_line();

  ASSERT_EQ(test::send_from(*link_, VethPair::b, 100, 64), 0);
  EXPECT_EQ(test::receive_frames(*socket, 100).size(), 100u);
}

TEST_F(XdpBindMode, NativeModeAsksForADriverModeProgram) {
  auto umem = Umem::create({.frame_count = 256, .fill_ring_size = 128});
  ASSERT_TRUE(umem) << umem.error().message();
  auto program = RedirectProgram::attach(name(), ModeChoice::skb_copy);
  ASSERT_TRUE(program) << program.error().message();
  auto socket = Socket::open(*umem, *program, {.mode = ModeChoice::native_copy});
  ASSERT_FALSE(socket);
  EXPECT_EQ(socket.error().code(), Errc::capability_missing);
}

TEST_F(XdpBindMode, TheProgramLeavesWithItsObject) {
  {
    auto program = RedirectProgram::attach(name());
    ASSERT_TRUE(program) << program.error().message();
    EXPECT_TRUE(test::xdp_attached(*link_, VethPair::a));
  }
  EXPECT_FALSE(test::xdp_attached(*link_, VethPair::a));
}

TEST_F(XdpBindMode, AQueueClosedAMomentAgoBindsAgainAtOnce) {
  // The kernel lets go of a closed socket's queue a little later (a deferred release): a socket
  // opened right after, as a restarted tool opens it, must still bind.
  for (int round = 0; round < 20; ++round) {
    auto umem = Umem::create({.frame_count = 64, .fill_ring_size = 32});
    ASSERT_TRUE(umem) << umem.error().message();
    auto program = RedirectProgram::attach(name());
    ASSERT_TRUE(program) << program.error().message();
    auto socket = Socket::open(*umem, *program);
    ASSERT_TRUE(socket) << "round " << round << ": " << socket.error().message();
  }
}

TEST_F(XdpBindMode, ASecondProgramOnTheSameInterfaceIsRefusedByName) {
  auto first = RedirectProgram::attach(name());
  ASSERT_TRUE(first) << first.error().message();
  auto second = RedirectProgram::attach(name());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code(), Errc::rejected);
  EXPECT_TRUE(contains(second.error().message(), std::to_string(first->program_id())))
      << second.error().message();
}

TEST_F(XdpBindMode, AKilledOwnerLeavesNoProgramBehind) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const std::string interface = name();
  const pid_t owner = bench::fork_call([&] {
    ::close(ready[0]);
    auto umem = Umem::create({.frame_count = 64, .fill_ring_size = 32});
    auto program = RedirectProgram::attach(interface);
    if (!umem || !program) return 1;
    auto socket = Socket::open(*umem, *program);
    if (!socket) return 2;
    const char up = 1;
    if (::write(ready[1], &up, 1) != 1) return 3;
    for (;;) ::pause();
  });
  ::close(ready[1]);
  char up = 0;
  ASSERT_EQ(::read(ready[0], &up, 1), 1) << "the owner did not come up";
  ::close(ready[0]);
  EXPECT_TRUE(test::xdp_attached(*link_, VethPair::a));
  ::kill(owner, SIGKILL);
  EXPECT_EQ(bench::reap(owner), 128 + SIGKILL);
  EXPECT_FALSE(test::xdp_attached(*link_, VethPair::a));
}

TEST(XdpVethPair, NamespacesVanishWhenTheirMakerIsKilled) {
  ZC_REQUIRE_ROOT("to make network namespaces");
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  const pid_t maker = bench::fork_call([&] {
    ::close(report[0]);
    VethPair link;
    if (!link.ok()) return 1;
    // The namespaces' inode numbers, through which the test finds them afterwards.
    struct stat a {
    }, b{};
    if (::stat(link.netns_path(VethPair::a).c_str(), &a) != 0 ||
        ::stat(link.netns_path(VethPair::b).c_str(), &b) != 0) {
      return 2;
    }
    const std::uint64_t inodes[2] = {a.st_ino, b.st_ino};
    if (::write(report[1], inodes, sizeof inodes) != sizeof inodes) return 3;
    for (;;) ::pause();
  });
  ::close(report[1]);
  std::uint64_t inodes[2] = {0, 0};
  ASSERT_EQ(::read(report[0], inodes, sizeof inodes), static_cast<ssize_t>(sizeof inodes));
  ::close(report[0]);
  ::kill(maker, SIGKILL);
  EXPECT_EQ(bench::reap(maker), 128 + SIGKILL);
  // The holders die with their parent; /proc then has no process in either namespace. Their
  // death is asynchronous to ours, so look for a while (they go in milliseconds).
  const auto in_use = [&] {
    const bench::RunResult listed = bench::run({"lsns", "-t", "net", "-n", "-o", "NS"});
    for (const std::uint64_t inode : inodes) {
      if (listed.output.find(std::to_string(inode)) != std::string::npos) return true;
    }
    return false;
  };
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    gone = !in_use();
    if (!gone) ::usleep(20'000);
  }
  EXPECT_TRUE(gone) << "a namespace of the killed maker is still there";
}

}  // namespace
}  // namespace zc::xdp
