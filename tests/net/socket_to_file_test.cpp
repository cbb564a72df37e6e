#include "zcopy/net/socket_to_file.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "bench/support/data.hpp"
#include "net/send_test_support.hpp"
#include "support/capability_gate.hpp"

namespace zc::net {
namespace {

using bench::TempDir;

constexpr ReceiveMethod kMethods[] = {ReceiveMethod::splice, ReceiveMethod::uring,
                                      ReceiveMethod::copy};

class SocketToFileTest : public ::testing::TestWithParam<ReceiveMethod> {
 protected:
  void SetUp() override {
    auto chosen = choose(GetParam());
    if (!chosen) ZC_SKIP_BECAUSE(chosen.error().message());
    ASSERT_FALSE(dir_.path().empty());
    auto pair = test::tcp_pair();
    ASSERT_TRUE(pair);
    pair_ = std::move(*pair);
    // Reads block at most this long: a slice the after_read hook hears of.
    const timeval slice{.tv_sec = 0, .tv_usec = 50'000};
    ASSERT_EQ(::setsockopt(pair_.receiver.get(), SOL_SOCKET, SO_RCVTIMEO, &slice, sizeof slice), 0);
    auto file = Fd::open(dir_ / "out.bin", O_RDWR | O_CREAT | O_TRUNC, 0600);
    ASSERT_TRUE(file);
    file_ = std::move(*file);
  }

  // Sends `data` from a thread, then shuts the sending side.
  std::thread send_then_close(std::string data) {
    return std::thread([this, data = std::move(data)] {
      std::size_t at = 0;
      while (at < data.size()) {
        const ssize_t n = ::send(pair_.sender.get(), data.data() + at, data.size() - at, 0);
        if (n <= 0) break;
        at += static_cast<std::size_t>(n);
      }
      ::shutdown(pair_.sender.get(), SHUT_WR);
    });
  }

  SocketToFile::Target target(std::optional<std::uint64_t> length) const {
    return {.socket = pair_.receiver.get(),
            .file = file_.get(),
            .offset = 100,
            .length = length,
            .name = "out.bin"};
  }

  TempDir dir_;
  test::TcpPair pair_;
  Fd file_;
};

TEST_P(SocketToFileTest, WritesEveryByteAtTheOffsetAndTellsTheHooks) {
  const std::string data = bench::random_bytes(5 * 1024 * 1024 + 3, 7);
  std::thread sender = send_then_close(data);
  auto mover = SocketToFile::create(GetParam());
  ASSERT_TRUE(mover) << mover.error().message();
  std::uint64_t written = 0;
  std::uint64_t read = 0;
  auto moved =
      mover->receive(target(data.size()), {.written = [&](std::uint64_t n) { written += n; },
                                           .after_read = [&](std::uint64_t n) -> Result<void> {
                                             read += n;
                                             return {};
                                           }});
  sender.join();
  ASSERT_TRUE(moved) << moved.error().message();
  EXPECT_EQ(*moved, data.size());
  EXPECT_EQ(written, data.size());
  EXPECT_EQ(read, data.size());
  const std::string got = bench::read_text(dir_ / "out.bin");
  ASSERT_EQ(got.size(), 100 + data.size());
  EXPECT_TRUE(got.substr(100) == data) << "bytes differ";
  const TransferLedger& ledger = mover->ledger();
  EXPECT_EQ(ledger.method, to_string(GetParam()));
  EXPECT_EQ(ledger.bytes, data.size());
  if (GetParam() == ReceiveMethod::copy) {
    EXPECT_EQ(ledger.bytes_zero_copy, 0u);
    EXPECT_EQ(ledger.bytes_copied_kernel, 2 * data.size());
  } else {
    EXPECT_EQ(ledger.bytes_zero_copy, data.size());
    EXPECT_EQ(ledger.bytes_copied_kernel, data.size());
  }
}

TEST_P(SocketToFileTest, WithoutALengthItReadsUntilThePeerCloses) {
  const std::string data = bench::random_bytes(300 * 1024, 8);
  std::thread sender = send_then_close(data);
  auto mover = SocketToFile::create(GetParam());
  ASSERT_TRUE(mover);
  auto moved = mover->receive(target(std::nullopt), {});
  sender.join();
  ASSERT_TRUE(moved) << moved.error().message();
  EXPECT_EQ(*moved, data.size());
}

TEST_P(SocketToFileTest, ABodyThatEndsEarlyIsAnErrorSayingHowMuchArrived) {
  const std::string data = bench::random_bytes(70 * 1024, 9);
  std::thread sender = send_then_close(data);
  auto mover = SocketToFile::create(GetParam());
  ASSERT_TRUE(mover);
  auto moved = mover->receive(target(data.size() + 10), {});
  sender.join();
  ASSERT_FALSE(moved);
  EXPECT_EQ(moved.error().code(), Errc::closed);
  EXPECT_NE(moved.error().message().find("truncated body"), std::string::npos);
  EXPECT_NE(moved.error().message().find(std::to_string(data.size()) + " of "), std::string::npos)
      << moved.error().message();
}

TEST_P(SocketToFileTest, TheHookEndsATransferWhileNothingArrives) {
  // Nothing is ever sent: only receive timeouts pass, and the hook hears each with 0 bytes.
  auto mover = SocketToFile::create(GetParam());
  ASSERT_TRUE(mover);
  int slices = 0;
  auto moved = mover->receive(target(1000),
                              {.written = {}, .after_read = [&](std::uint64_t n) -> Result<void> {
                                 if (n == 0 && ++slices == 3) {
                                   return fail(Errc::closed, "receive", "interrupted");
                                 }
                                 return {};
                               }});
  ASSERT_FALSE(moved);
  EXPECT_EQ(moved.error().detail(), "interrupted");
  EXPECT_EQ(slices, 3);
}

// A peer that sends `first`, pauses, sends `last` and keeps the connection open until told.
class TwoPartPeer {
 public:
  TwoPartPeer(int socket, std::string first, std::string last, std::chrono::milliseconds pause,
              std::size_t burst = 1 << 20)
      : thread_([=, this] {
          send_all(socket, first, burst, pause);
          std::this_thread::sleep_for(pause);
          send_all(socket, last, burst, pause);
          release_.get_future().wait();
        }) {}
  ~TwoPartPeer() {
    release_.set_value();
    thread_.join();
  }
  TwoPartPeer(const TwoPartPeer&) = delete;
  TwoPartPeer& operator=(const TwoPartPeer&) = delete;

 private:
  // `data` in sends of `burst` bytes, with `gap` between them when they are small.
  static void send_all(int socket, const std::string& data, std::size_t burst,
                       std::chrono::milliseconds gap) {
    std::size_t at = 0;
    while (at < data.size()) {
      const std::size_t size = std::min(burst, data.size() - at);
      const ssize_t n = ::send(socket, data.data() + at, size, MSG_NOSIGNAL);
      if (n <= 0) return;
      at += static_cast<std::size_t>(n);
      if (burst < data.size()) std::this_thread::sleep_for(gap / 50);
    }
  }

  std::promise<void> release_;
  std::thread thread_;
};

TEST_P(SocketToFileTest, TheLastBytesOfABodyArriveWithoutWaitingForATimeoutOrTheClose) {
  // No receive timeout: a low-water mark above what is left of the body would wait for ever.
  const timeval forever{.tv_sec = 0, .tv_usec = 0};
  ASSERT_EQ(::setsockopt(pair_.receiver.get(), SOL_SOCKET, SO_RCVTIMEO, &forever, sizeof forever),
            0);
  const std::string data = bench::random_bytes(400 * 1024, 10);
  const std::size_t split = data.size() - 10 * 1024;
  TwoPartPeer peer(pair_.sender.get(), data.substr(0, split), data.substr(split),
                   std::chrono::milliseconds(50));
  auto mover = SocketToFile::create(GetParam());
  ASSERT_TRUE(mover);
  auto receiving =
      std::async(std::launch::async, [&] { return mover->receive(target(data.size()), {}); });
  // It takes milliseconds; a receiver that waits for more than the body holds never returns.
  const bool returned = receiving.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  if (!returned) ::shutdown(pair_.receiver.get(), SHUT_RDWR);
  auto moved = receiving.get();
  ASSERT_TRUE(returned) << "the last " << data.size() - split << " bytes never woke the receiver";
  ASSERT_TRUE(moved) << moved.error().message();
  EXPECT_EQ(*moved, data.size());
  EXPECT_TRUE(bench::read_text(dir_ / "out.bin").substr(100) == data) << "bytes differ";
}

TEST_P(SocketToFileTest, APeerSendingSmallBurstsWakesTheReaderPerQuarterMiBNotPerBurst) {
  // Slices long enough that only the low-water mark ends a read early.
  const timeval slice{.tv_sec = 5, .tv_usec = 0};
  ASSERT_EQ(::setsockopt(pair_.receiver.get(), SOL_SOCKET, SO_RCVTIMEO, &slice, sizeof slice), 0);
  const std::string data = bench::random_bytes(1024 * 1024, 11);
  // 4 KiB sends about a millisecond apart: 256 bursts, like a shaped link.
  TwoPartPeer peer(pair_.sender.get(), data.substr(0, 512 * 1024), data.substr(512 * 1024),
                   std::chrono::milliseconds(50), 4096);
  auto mover = SocketToFile::create(GetParam());
  ASSERT_TRUE(mover);
  int reads = 0;
  auto moved =
      mover->receive(target(data.size()), {.written = {}, .after_read = [&](std::uint64_t n) {
                                             if (n > 0) ++reads;
                                             return Result<void>{};
                                           }});
  ASSERT_TRUE(moved) << moved.error().message();
  EXPECT_EQ(*moved, data.size());
  // Four marks of 256 KiB, each read perhaps followed by one of what came meanwhile, and the
  // rest below a mark; a reader woken per burst makes about 256.
  EXPECT_LE(reads, 24);
}

TEST_P(SocketToFileTest, TheLowWaterMarkIsBackAtOneAfterwardsForTheNextResponse) {
  const std::string data = bench::random_bytes(700 * 1024, 12);
  for (const bool whole : {true, false}) {
    auto pair = test::tcp_pair();
    ASSERT_TRUE(pair);
    pair_ = std::move(*pair);
    const timeval slice{.tv_sec = 0, .tv_usec = 50'000};
    ASSERT_EQ(::setsockopt(pair_.receiver.get(), SOL_SOCKET, SO_RCVTIMEO, &slice, sizeof slice), 0);
    std::thread sender = send_then_close(data);
    auto mover = SocketToFile::create(GetParam());
    ASSERT_TRUE(mover);
    // A body cut short by the close is an error; the socket is left as it came all the same.
    auto moved = mover->receive(target(whole ? data.size() : data.size() + 1), {});
    sender.join();
    EXPECT_EQ(moved.has_value(), whole);
    int mark = 0;
    socklen_t size = sizeof mark;
    ASSERT_EQ(::getsockopt(pair_.receiver.get(), SOL_SOCKET, SO_RCVLOWAT, &mark, &size), 0);
    EXPECT_EQ(mark, 1) << (whole ? "after a whole body" : "after a truncated body");
  }
}

INSTANTIATE_TEST_SUITE_P(EveryMethod, SocketToFileTest, ::testing::ValuesIn(kMethods),
                         [](const auto& param_info) {
                           return std::string(to_string(param_info.param));
                         });

TEST(ReceiveMethod, NamesParseBackAndSendfileIsNotOne) {
  for (const ReceiveMethod m : kMethods) EXPECT_EQ(receive_method_from_name(to_string(m)), m);
  EXPECT_FALSE(receive_method_from_name("sendfile"));
  ZC_REQUIRE_CAPABILITY(Capability::splice);
  auto chosen = choose(ReceiveMethod::automatic);
  ASSERT_TRUE(chosen);
  EXPECT_EQ(chosen->method, ReceiveMethod::splice);
}

}  // namespace
}  // namespace zc::net
