#include "zcopy/net/file_to_socket.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <csignal>
#include <optional>
#include <string>
#include <vector>

#include "bench/support/data.hpp"
#include "net/send_test_support.hpp"
#include "support/capability_gate.hpp"

namespace zc::net {
namespace {

using bench::TempDir;

constexpr FileSendMethod kMethods[] = {FileSendMethod::sendfile, FileSendMethod::splice,
                                       FileSendMethod::uring, FileSendMethod::copy};

struct Sent {
  SendTurn last = SendTurn::blocked;
  std::uint64_t file_sent = 0;
};

// Sends `transfer` turn by turn, waiting for room when the socket is full.
Result<Sent> send_all(FileToSocket& mover, int socket, FileSend& transfer, SocketSendState& state) {
  for (;;) {
    auto turn = mover.send(socket, transfer, state);
    if (!turn) return std::unexpected(turn.error());
    if (*turn != SendTurn::blocked) return Sent{*turn, transfer.file_sent};
    pollfd p{.fd = socket, .events = POLLOUT, .revents = 0};
    (void)::poll(&p, 1, 1000);
  }
}

class FileToSocketTest : public ::testing::TestWithParam<FileSendMethod> {
 protected:
  void SetUp() override {
    auto chosen = choose(GetParam());
    if (!chosen) ZC_SKIP_BECAUSE(chosen.error().message());
    ASSERT_FALSE(dir_.path().empty());
    path_ = dir_ / "data.bin";
    ASSERT_TRUE(bench::write_random_file(path_, kFileBytes));
    content_ = bench::read_text(path_);
    ASSERT_EQ(content_.size(), kFileBytes);
    ::signal(SIGPIPE, SIG_IGN);  // sendfile and splice into a closed socket raise it
    auto pair = test::tcp_pair();
    ASSERT_TRUE(pair);
    pair_ = std::move(*pair);
    ASSERT_EQ(::fcntl(pair_.sender.get(), F_SETFL, O_NONBLOCK), 0);
    auto mover = FileToSocket::create(GetParam(), 1 << 20, counters_);
    ASSERT_TRUE(mover) << mover.error().message();
    mover_.emplace(std::move(*mover));
  }

  Result<Sent> send_all(FileSend& t) {
    return net::send_all(*mover_, pair_.sender.get(), t, state_);
  }

  FileSend transfer(std::uint64_t offset, std::uint64_t end) const {
    FileSend t;
    t.head = "HEAD\r\n\r\n";
    auto file = Fd::open(path_, O_RDONLY);
    EXPECT_TRUE(file);
    if (file) t.file = std::move(*file);
    t.offset = offset;
    t.end = end;
    return t;
  }

  static constexpr std::uint64_t kFileBytes = 3 * 1024 * 1024 + 517;
  TempDir dir_;
  std::string path_;
  std::string content_;
  test::TcpPair pair_;
  CopyCounters counters_;
  std::optional<FileToSocket> mover_;
  SocketSendState state_;
};

TEST_P(FileToSocketTest, SendsTheHeadThenTheRangeByteExactAndCountsIt) {
  test::Drain drain(pair_.receiver.get());
  const std::uint64_t from = 4093;
  const std::uint64_t to = kFileBytes - 11;
  FileSend t = transfer(from, to);
  auto sent = send_all(t);
  ASSERT_TRUE(sent) << sent.error().message();
  EXPECT_EQ(sent->last, SendTurn::done);
  EXPECT_EQ(sent->file_sent, to - from);
  EXPECT_EQ(remaining(t, state_), 0u);
  EXPECT_FALSE(state_.corked) << "uncorked at the end";
  ::shutdown(pair_.sender.get(), SHUT_WR);
  drain.join();

  const std::string expected = t.head + content_.substr(from, to - from);
  EXPECT_EQ(drain.bytes(), expected.size());
  EXPECT_EQ(drain.hash(), test::fnv1a(std::as_bytes(std::span(expected))));
  TransferLedger ledger;
  counters_.read_into(ledger);
  EXPECT_EQ(ledger.bytes, to - from) << "file bytes only, not the head";
  if (GetParam() == FileSendMethod::copy) {
    EXPECT_EQ(ledger.bytes_zero_copy, 0u);
    EXPECT_EQ(ledger.bytes_copied_kernel, 2 * (to - from));
  } else {
    EXPECT_EQ(ledger.bytes_zero_copy, to - from);
    EXPECT_EQ(ledger.bytes_copied_kernel, 0u);
  }
}

TEST_P(FileToSocketTest, AFileShorterThanTheRangeEndsTruncated) {
  test::Drain drain(pair_.receiver.get());
  FileSend t = transfer(1000, kFileBytes + 5000);
  auto sent = send_all(t);
  ASSERT_TRUE(sent) << sent.error().message();
  EXPECT_EQ(sent->last, SendTurn::truncated);
  EXPECT_EQ(sent->file_sent + remaining(t, state_) - 5000, kFileBytes - 1000)
      << "what was sent and what is still owed add up to the range";
}

TEST_P(FileToSocketTest, APeerThatHungUpIsAnErrorWithItsErrno) {
  // Closing with unread data in the receive queue resets the connection.
  const linger reset{.l_onoff = 1, .l_linger = 0};
  ASSERT_EQ(::setsockopt(pair_.receiver.get(), SOL_SOCKET, SO_LINGER, &reset, sizeof reset), 0);
  pair_.receiver.reset();
  FileSend t = transfer(0, kFileBytes);
  auto sent = send_all(t);
  ASSERT_FALSE(sent);
  const int error = sent.error().sys_errno();
  EXPECT_TRUE(error == EPIPE || error == ECONNRESET) << sent.error().message();
}

INSTANTIATE_TEST_SUITE_P(EveryMethod, FileToSocketTest, ::testing::ValuesIn(kMethods),
                         [](const auto& param_info) {
                           return std::string(to_string(param_info.param));
                         });

TEST(FileSendMethod, NamesParseBackAndAutoPrefersSendfile) {
  for (const FileSendMethod m : kMethods) EXPECT_EQ(file_send_method_from_name(to_string(m)), m);
  EXPECT_EQ(file_send_method_from_name("auto"), FileSendMethod::automatic);
  EXPECT_FALSE(file_send_method_from_name("zerocopy"));
  ZC_REQUIRE_CAPABILITY(Capability::sendfile);
  auto chosen = choose(FileSendMethod::automatic);
  ASSERT_TRUE(chosen);
  EXPECT_EQ(chosen->method, FileSendMethod::sendfile);
  EXPECT_EQ(chosen->note, "");
}

}  // namespace
}  // namespace zc::net
