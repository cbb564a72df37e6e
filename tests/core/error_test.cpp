#include "zcopy/core/error.hpp"

#include <gtest/gtest.h>

#include <cerrno>

namespace zc {
namespace {

TEST(Error, SystemErrorNamesTheCallTheReasonAndTheErrnoName) {
  const Error error = Error::from_errno(ECONNRESET, "sendfile(fd 7)");
  EXPECT_EQ(error.code(), Errc::system);
  EXPECT_EQ(error.sys_errno(), ECONNRESET);
  EXPECT_EQ(error.message(), "sendfile(fd 7): Connection reset by peer [ECONNRESET]");
}

TEST(Error, DetailComesFirstAndTheErrnoStaysVisible) {
  const Error error = Error::from_errno(ENOMEM, "mlock(64.0 MiB)", "RLIMIT_MEMLOCK is 8.0 MiB");
  EXPECT_EQ(error.message(),
            "mlock(64.0 MiB): RLIMIT_MEMLOCK is 8.0 MiB (Cannot allocate memory) [ENOMEM]");
}

TEST(Error, ModuleErrorWithoutDetailPrintsItsCode) {
  const Error error = Error::make(Errc::exhausted, "loan chunk", "");
  EXPECT_EQ(error.sys_errno(), 0);
  EXPECT_EQ(error.message(), "loan chunk: exhausted");
}

TEST(Error, ContextIsPrependedToTheOperation) {
  Error error = Error::make(Errc::corrupt, "pool header", "bad magic 0x0");
  const Error wrapped = std::move(error).with_context("attach pool 'frames'");
  EXPECT_EQ(wrapped.code(), Errc::corrupt);
  EXPECT_EQ(wrapped.message(), "attach pool 'frames': pool header: bad magic 0x0");
}

TEST(Error, FailHelpersBuildUnexpectedResults) {
  const Result<int> failed = fail(Errc::timeout, "wait", "no message within 100 ms");
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code(), Errc::timeout);
  const Result<int> failed_errno = fail_errno(EACCES, "open(/x)");
  ASSERT_FALSE(failed_errno.has_value());
  EXPECT_EQ(failed_errno.error().sys_errno(), EACCES);
}

TEST(Error, EveryCodeHasAName) {
  for (const Errc code :
       {Errc::system, Errc::invalid_argument, Errc::capability_missing, Errc::limit_exceeded,
        Errc::corrupt, Errc::exhausted, Errc::rejected, Errc::timeout, Errc::closed, Errc::usage}) {
    EXPECT_NE(to_string(code), "unknown error");
  }
}

}  // namespace
}  // namespace zc
