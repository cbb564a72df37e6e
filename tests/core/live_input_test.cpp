#include "zcopy/core/live_input.hpp"

#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <string>
#include <vector>

#include "zcopy/core/fd.hpp"

namespace zc {
namespace {

void write_text(int fd, const std::string& text) {
  ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
}

std::string as_text(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

TEST(LiveInput, ALiveStreamIsHandedOnAsItArrivesWithoutWaitingToFillTheBuffer) {
  auto pipe = make_pipe();
  ASSERT_TRUE(pipe.has_value());
  LiveInput input(pipe->read_end.get());
  std::vector<std::byte> buffer(64 * 1024);
  for (const std::string line : {"one\n", "two\n"}) {
    write_text(pipe->write_end.get(), line);
    ASSERT_TRUE(input.wait(-1, [] {}).has_value());
    // A read that waits to fill the buffer would block here for as long as the writer is
    // quiet; the writer end is closed after 10 s so that such a read ends and the test fails.
    auto filled = std::async(std::launch::async, [&] { return input.fill(buffer); });
    if (filled.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      pipe->write_end.reset();
      ADD_FAILURE() << "fill() waited for a quiet writer";
      return;
    }
    auto n = filled.get();
    ASSERT_TRUE(n.has_value()) << n.error().message();
    EXPECT_EQ(as_text(std::span(buffer).first(*n)), line);
  }
  pipe->write_end.reset();
  ASSERT_TRUE(input.wait(-1, [] {}).has_value());
  auto end = input.fill(buffer);
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(*end, 0u);
}

TEST(LiveInput, WhatABulkInputAlreadyHoldsFillsWholeBuffers) {
  auto pipe = make_pipe();
  ASSERT_TRUE(pipe.has_value());
  write_text(pipe->write_end.get(), std::string(12 * 1024, 'x'));
  LiveInput input(pipe->read_end.get());
  std::vector<std::byte> buffer(8 * 1024);
  ASSERT_TRUE(input.wait(-1, [] {}).has_value());
  auto n = input.fill(buffer);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, buffer.size());
  ASSERT_TRUE(input.wait(-1, [] {}).has_value());
  n = input.fill(buffer);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 4 * 1024u);
}

TEST(LiveInput, WhileWaitingTheOtherDescriptorIsServed) {
  auto pipe = make_pipe();
  ASSERT_TRUE(pipe.has_value());
  const int other = ::eventfd(1, EFD_CLOEXEC);  // readable at once
  ASSERT_GE(other, 0);
  const Fd other_owned = Fd::adopt(other);
  LiveInput input(pipe->read_end.get());
  int served = 0;
  // Serving the other descriptor is what makes the input readable: wait() must call it.
  auto waited = input.wait(other, [&] {
    std::uint64_t value = 0;
    ASSERT_EQ(::read(other, &value, sizeof value), static_cast<ssize_t>(sizeof value));
    ++served;
    write_text(pipe->write_end.get(), "after serving\n");
  });
  ASSERT_TRUE(waited.has_value());
  EXPECT_EQ(served, 1);
  std::vector<std::byte> buffer(256);
  auto n = input.fill(buffer);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(as_text(std::span(buffer).first(*n)), "after serving\n");
}

TEST(LiveInput, ARegularFileIsReadInWholeBuffersToItsEnd) {
  char path[] = "/tmp/zcopy-live-input-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  const Fd file = Fd::adopt(fd);
  ::unlink(path);
  write_text(fd, std::string(10000, 'y'));
  ASSERT_EQ(::lseek(fd, 0, SEEK_SET), 0);
  LiveInput input(fd);
  std::vector<std::byte> buffer(4096);
  std::size_t total = 0;
  std::vector<std::size_t> sizes;
  for (;;) {
    ASSERT_TRUE(input.wait(-1, [] {}).has_value());
    auto n = input.fill(buffer);
    ASSERT_TRUE(n.has_value());
    if (*n == 0) break;
    sizes.push_back(*n);
    total += *n;
  }
  EXPECT_EQ(total, 10000u);
  EXPECT_EQ(sizes, (std::vector<std::size_t>{4096, 4096, 1808}));
}

}  // namespace
}  // namespace zc
