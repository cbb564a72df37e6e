// IoChain: editing by re-stitching, segment-limit coalescing, and a redacted packet forwarded
// with one zero-copy send, checked by checksum at the receiver.
#include "zcopy/net/io_chain.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "send_test_support.hpp"
#include "support/capability_gate.hpp"
#include "zcopy/net/zerocopy_sender.hpp"

namespace zc::net {
namespace {

std::span<const std::byte> as_bytes(const std::string& text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

std::string text_of(const IoChain& chain) {
  const auto bytes = chain.flatten();
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

TEST(IoChain, CutInsertAndReplaceRestitchWithoutCopying) {
  const std::string a = "hello, ", b = "secret ", c = "world";
  IoChain chain;
  chain.append(as_bytes(a));
  chain.append(as_bytes(b));
  chain.append(as_bytes(c));
  ASSERT_TRUE(chain.cut(7, 7));
  EXPECT_EQ(text_of(chain), "hello, world");
  const std::string comma = ",";
  ASSERT_TRUE(chain.insert(5, as_bytes(comma)));
  EXPECT_EQ(text_of(chain), "hello,, world");
  ASSERT_TRUE(chain.cut(5, 1));
  const std::string mask = "XXXX";
  ASSERT_TRUE(chain.replace(1, 3, as_bytes(mask)));  // spans the middle of one fragment
  EXPECT_EQ(text_of(chain), "hXXXXo, world");
  EXPECT_EQ(chain.size(), 13u);
  EXPECT_EQ(chain.copied_bytes(), 0u);
  // Every fragment still points into the original buffers or the mask: nothing was copied.
  for (const auto& f : chain.fragments()) {
    const auto* p = reinterpret_cast<const char*>(f.bytes.data());
    const bool inside = (p >= a.data() && p < a.data() + a.size()) ||
                        (p >= c.data() && p < c.data() + c.size()) ||
                        (p >= mask.data() && p < mask.data() + mask.size());
    EXPECT_TRUE(inside);
  }
  EXPECT_FALSE(chain.cut(10, 10));
  EXPECT_FALSE(chain.insert(14, as_bytes(mask)));
}

TEST(IoChain, CoalescesTheSmallestNeighboursAndCountsTheCopies) {
  const std::string one = "a", big(1000, 'b');
  IoChain chain;
  for (int i = 0; i < 4; ++i) chain.append(as_bytes(one));
  for (int i = 0; i < 3; ++i) chain.append(as_bytes(big));
  const std::string before = text_of(chain);
  auto copied = chain.coalesce(4);
  ASSERT_TRUE(copied);
  // (1+1) -> 2, (1+1) -> 2, (2+2) -> 4: eight bytes copied; the big fragments stay in place.
  EXPECT_EQ(*copied, 8u);
  EXPECT_EQ(chain.copied_bytes(), 8u);
  EXPECT_EQ(chain.fragment_count(), 4u);
  EXPECT_EQ(text_of(chain), before);
  EXPECT_TRUE(chain.fragments()[0].bounce);
  EXPECT_EQ(chain.fragments()[1].bytes.data(), reinterpret_cast<const std::byte*>(big.data()));
}

TEST(IoChain, CoalescesToADeviceLimitOf17) {
  // 90 small header-like fragments of 1..64 bytes, then 10 payloads of 64 KiB.
  std::vector<std::string> parts;
  std::size_t small_total = 0;
  for (int i = 0; i < 90; ++i) {
    parts.push_back(std::string(static_cast<std::size_t>(i * 37 % 64 + 1), char('a' + i % 26)));
    small_total += parts.back().size();
  }
  for (int i = 0; i < 10; ++i) parts.push_back(std::string(64 * 1024, char('A' + i)));
  IoChain chain;
  for (const auto& p : parts) chain.append(as_bytes(p));
  const std::string before = text_of(chain);
  auto copied = chain.coalesce(17);
  ASSERT_TRUE(copied);
  EXPECT_EQ(chain.fragment_count(), 17u);
  EXPECT_EQ(text_of(chain), before);
  // Only the small fragments were copied (some more than once, as merged buffers merge again);
  // every payload is still sent from where it lies.
  std::size_t in_bounce = 0, payloads_in_place = 0;
  for (const auto& f : chain.fragments()) {
    in_bounce += f.bounce ? f.bytes.size() : 0;
    payloads_in_place += !f.bounce && f.bytes.size() == 64 * 1024 ? 1u : 0u;
  }
  EXPECT_EQ(payloads_in_place, 10u);
  EXPECT_EQ(in_bounce, small_total);
  EXPECT_GE(*copied, small_total);
  EXPECT_LT(*copied, 8 * small_total);
  RecordProperty("copied_bytes", std::to_string(*copied));
}

// The seeds' intrusion-detection case: forward a packet with a secret span redacted, stitched
// from the original's head, a small new buffer and its tail; the receiver's checksum matches the
// redacted packet, and both buffers are released only when the send completed.
TEST(IoChain, RedactedPacketArrivesExactlyAndBuffersLiveUntilTheSendCompletes) {
  ZC_REQUIRE_CAPABILITY(Capability::msg_zerocopy);
  auto pair = test::tcp_pair();
  ASSERT_TRUE(pair);
  test::Drain drain(pair->receiver.get());

  const std::size_t size = 256 * 1024, secret_at = 100'000, secret_len = 4096;
  auto packet = std::make_shared<std::vector<std::byte>>(size);
  for (std::size_t i = 0; i < size; ++i) (*packet)[i] = std::byte(i * 13 + i / 251);
  auto mask = std::make_shared<std::vector<std::byte>>(secret_len, std::byte{'#'});
  std::vector<std::byte> expected = *packet;
  std::memset(expected.data() + secret_at, '#', secret_len);
  const std::weak_ptr<std::vector<std::byte>> packet_alive = packet, mask_alive = mask;

  {
    auto sender = ZeroCopySender::create(pair->sender.get(), {.method = SendMethod::msg_zerocopy});
    ASSERT_TRUE(sender) << sender.error().message();
    IoChain chain;
    chain.append(std::span<const std::byte>(*packet), packet);
    ASSERT_TRUE(chain.replace(secret_at, secret_len, std::span<const std::byte>(*mask), mask));
    EXPECT_EQ(chain.fragment_count(), 3u);
    packet.reset();
    mask.reset();
    auto ticket = send_chain(*sender, std::move(chain));
    ASSERT_TRUE(ticket) << ticket.error().message();
    if (!sender->is_complete(*ticket)) {
      EXPECT_FALSE(packet_alive.expired());
    }
    ASSERT_TRUE(sender->flush());
    EXPECT_TRUE(sender->is_complete(*ticket));
    EXPECT_TRUE(packet_alive.expired());
    EXPECT_TRUE(mask_alive.expired());
  }
  ::shutdown(pair->sender.get(), SHUT_WR);
  drain.join();
  EXPECT_EQ(drain.bytes(), size);
  EXPECT_EQ(drain.hash(), test::fnv1a(expected));
}

}  // namespace
}  // namespace zc::net
