// validate_swap_chain_header(): a peer's corrupt header is refused with a precise line.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "frame/swap_chain_shared.hpp"
#include "zcopy/frame/swap_chain.hpp"
#include "zcopy/frame/swap_chain_layout.hpp"

namespace {

using zc::detail::SwapChainShared;

// A copy of a real chain's region, to corrupt.
std::vector<std::byte> good_region() {
  auto chain = zc::SwapChain::create({.width = 32, .height = 8, .slot_count = 2});
  EXPECT_TRUE(chain.has_value());
  const auto bytes = chain->region().bytes();
  return {bytes.begin(), bytes.end()};
}

template <class T>
void poke(std::vector<std::byte>& region, std::size_t offset, T value) {
  std::memcpy(region.data() + offset, &value, sizeof value);
}

std::string refusal(const std::vector<std::byte>& region) {
  auto g = zc::validate_swap_chain_header(region);
  if (g) return "accepted";
  EXPECT_EQ(g.error().code(), zc::Errc::corrupt);
  return g.error().message();
}

constexpr std::size_t kHeader = offsetof(SwapChainShared, header);

TEST(SwapChainHeader, a_fresh_chain_validates) {
  auto region = good_region();
  auto g = zc::validate_swap_chain_header(region);
  ASSERT_TRUE(g.has_value()) << g.error().message();
  EXPECT_EQ(g->slot_count, 2U);
  EXPECT_EQ(g->row_bytes, 128U);
}

TEST(SwapChainHeader, each_corruption_is_named) {
  using H = zc::detail::SwapChainHeader;
  struct Case {
    std::size_t offset;
    std::uint32_t value;
    const char* expected;
  };
  const Case cases[] = {
      {kHeader + offsetof(H, magic), 1, "bad magic"},
      {kHeader + offsetof(H, version), 9, "layout version 9"},
      {kHeader + offsetof(H, slot_count), 9, "slot count 9 outside [2, 4]"},
      {kHeader + offsetof(H, width), 0, "width 0 outside"},
      {kHeader + offsetof(H, height), 20000, "height 20000 outside"},
      {kHeader + offsetof(H, bytes_per_pixel), 5, "bytes per pixel 5"},
      {kHeader + offsetof(H, mode), 2, "present mode 2"},
      {kHeader + offsetof(H, row_bytes), 64, "row bytes 64, expected 128"},
      {kHeader + offsetof(H, slot_bytes), 1, "slot size 1"},
      {kHeader + offsetof(H, slots_offset), 8192, "slot area [8192"},
      {offsetof(SwapChainShared, slots), 7, "slot 0 state 7 is not a slot state"},
      {offsetof(SwapChainShared, front), 3, "front index 3 outside [0, 1]"},
  };
  for (const Case& c : cases) {
    auto region = good_region();
    poke(region, c.offset, c.value);
    EXPECT_NE(refusal(region).find(c.expected), std::string::npos)
        << c.expected << " / " << refusal(region);
  }
}

TEST(SwapChainHeader, a_region_shorter_than_its_slots_is_refused) {
  auto region = good_region();
  region.resize(region.size() - 4096);
  EXPECT_NE(refusal(region).find("exceeds region size"), std::string::npos) << refusal(region);
  region.resize(100);
  EXPECT_NE(refusal(region).find("smaller than the control page"), std::string::npos);
}

}  // namespace
