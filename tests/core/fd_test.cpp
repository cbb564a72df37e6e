#include "zcopy/core/fd.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>

#include "zcopy/core/syscall.hpp"

namespace zc {
namespace {

bool is_open(int fd) {
  return ::fcntl(fd, F_GETFD) != -1;
}

TEST(Fd, ClosesWhatItOwnsWhenDestroyed) {
  int raw = -1;
  {
    auto pipe = make_pipe();
    ASSERT_TRUE(pipe.has_value()) << pipe.error().message();
    raw = pipe->read_end.get();
    EXPECT_TRUE(is_open(raw));
  }
  EXPECT_FALSE(is_open(raw));
}

TEST(Fd, EveryDescriptorIsCloseOnExec) {
  auto pipe = make_pipe();
  ASSERT_TRUE(pipe.has_value());
  EXPECT_TRUE(::fcntl(pipe->read_end.get(), F_GETFD) & FD_CLOEXEC);
  auto copy = pipe->write_end.duplicate();
  ASSERT_TRUE(copy.has_value());
  EXPECT_TRUE(::fcntl(copy->get(), F_GETFD) & FD_CLOEXEC);
  auto opened = Fd::open("/dev/null", O_RDONLY);
  ASSERT_TRUE(opened.has_value());
  EXPECT_TRUE(::fcntl(opened->get(), F_GETFD) & FD_CLOEXEC);
}

TEST(Fd, MoveTransfersOwnershipExactlyOnce) {
  auto pipe = make_pipe();
  ASSERT_TRUE(pipe.has_value());
  Fd first = std::move(pipe->read_end);
  EXPECT_FALSE(pipe->read_end.valid());
  const int raw = first.get();
  Fd second;
  second = std::move(first);
  EXPECT_FALSE(first.valid());
  EXPECT_EQ(second.get(), raw);
  EXPECT_TRUE(is_open(raw));
}

TEST(Fd, ReleaseGivesUpOwnershipWithoutClosing) {
  auto pipe = make_pipe();
  ASSERT_TRUE(pipe.has_value());
  const int raw = pipe->read_end.release();
  pipe->read_end.reset();
  EXPECT_TRUE(is_open(raw));
  ::close(raw);
}

TEST(Fd, OpenFailureNamesThePath) {
  auto missing = Fd::open("/nonexistent/zcopy-test", O_RDONLY);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().sys_errno(), ENOENT);
  EXPECT_NE(missing.error().message().find("/nonexistent/zcopy-test"), std::string::npos);
}

TEST(SysCall, RetriesWhenInterruptedBySignal) {
  int interruptions = 0;
  auto rc = sys_call("test", [&]() -> int {
    if (interruptions < 3) {
      ++interruptions;
      errno = EINTR;
      return -1;
    }
    return 42;
  });
  ASSERT_TRUE(rc.has_value());
  EXPECT_EQ(*rc, 42);
  EXPECT_EQ(interruptions, 3);
}

TEST(SysCall, NamesTheCallAndDescriptorOnFailure) {
  ::signal(SIGPIPE, SIG_IGN);
  auto pipe = make_pipe();
  ASSERT_TRUE(pipe.has_value());
  pipe->read_end.reset();
  const int fd = pipe->write_end.get();
  const char byte = 'x';
  auto rc = sys_call({"write", fd}, [&] { return ::write(fd, &byte, 1); });
  ASSERT_FALSE(rc.has_value());
  EXPECT_EQ(rc.error().sys_errno(), EPIPE);
  EXPECT_EQ(rc.error().operation(), "write(fd " + std::to_string(fd) + ")");
}

TEST(TrySysCall, AnEmptyNonBlockingReadIsAnAnswerNotAFailure) {
  auto pipe = make_pipe(O_NONBLOCK);
  ASSERT_TRUE(pipe.has_value());
  const int fd = pipe->read_end.get();
  char byte = 0;
  auto empty = try_sys_call({"read", fd}, [&] { return ::read(fd, &byte, 1); });
  ASSERT_TRUE(empty.has_value()) << empty.error().message();
  EXPECT_FALSE(empty->has_value());

  ASSERT_EQ(::write(pipe->write_end.get(), "y", 1), 1);
  auto one = try_sys_call({"read", fd}, [&] { return ::read(fd, &byte, 1); });
  ASSERT_TRUE(one.has_value() && one->has_value());
  EXPECT_EQ(**one, 1);
  EXPECT_EQ(byte, 'y');
}

TEST(TrySysCall, OtherFailuresAreErrorsNamingTheCall) {
  ::signal(SIGPIPE, SIG_IGN);
  auto pipe = make_pipe(O_NONBLOCK);
  ASSERT_TRUE(pipe.has_value());
  pipe->read_end.reset();
  const int fd = pipe->write_end.get();
  auto rc = try_sys_call({"write", fd}, [&] { return ::write(fd, "x", 1); });
  ASSERT_FALSE(rc.has_value());
  EXPECT_EQ(rc.error().sys_errno(), EPIPE);
  EXPECT_EQ(rc.error().operation(), "write(fd " + std::to_string(fd) + ")");
}

}  // namespace
}  // namespace zc
