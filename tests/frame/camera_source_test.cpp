// CameraDevice and DmaGrant: DMA only inside the grant, and never while the CPU holds access.
#include "zcopy/frame/camera_source.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "zcopy/frame/frame_pattern.hpp"
#include "zcopy/frame/swap_chain.hpp"

namespace {

using namespace std::chrono_literals;

zc::SwapChain make_chain() {
  auto chain = zc::SwapChain::create({.width = 1024,
                                      .height = 8,
                                      .bytes_per_pixel = 4,
                                      .slot_count = 2,
                                      .mode = zc::PresentMode::fifo});
  EXPECT_TRUE(chain.has_value());
  return std::move(*chain);
}

TEST(CameraSource, a_captured_frame_lands_in_the_slot_through_its_page_list) {
  auto chain = make_chain();
  auto back = chain.acquire(0ns);
  ASSERT_TRUE(back.has_value());
  auto grant = zc::DmaGrant::for_slot(chain, back->slot);
  ASSERT_TRUE(grant.has_value());
  // 1024 x 4 x 8 = 32 KiB: eight 4 KiB pages, one IOVA range each.
  EXPECT_EQ(grant->ranges().size(), 8U);
  zc::CameraDevice camera;
  ASSERT_TRUE(camera.capture(*grant, 9, chain.geometry().row_bytes, chain.geometry().height));
  EXPECT_EQ(camera.writes(), 8U);
  EXPECT_EQ(camera.refused(), 0U);
  ASSERT_TRUE(chain.present(*back, 9).has_value());
  ASSERT_TRUE(chain.flip().has_value());
  ASSERT_TRUE(grant->begin_cpu_access(zc::DmaSync::read).has_value());
  EXPECT_EQ(zc::frame_pattern_id(chain.front_bytes(), chain.geometry().row_bytes), 9U);
  ASSERT_TRUE(grant->end_cpu_access(zc::DmaSync::read).has_value());
  EXPECT_EQ(grant->begins(), grant->ends());
}

TEST(CameraSource, writes_outside_the_grant_are_refused_and_counted) {
  auto chain = make_chain();
  auto grant = zc::DmaGrant::for_slot(chain, 1);
  auto other = zc::DmaGrant::for_slot(chain, 0);
  ASSERT_TRUE(grant.has_value() && other.has_value());
  const std::vector<std::byte> data(64, std::byte{0xee});
  const auto before =
      std::vector<std::byte>(chain.slot_bytes(0).begin(), chain.slot_bytes(0).end());
  zc::CameraDevice camera;
  // Into the other slot, past the end, straddling the end, and before the region's slots.
  EXPECT_FALSE(camera.dma_write(*grant, other->base(), data).has_value());
  EXPECT_FALSE(camera.dma_write(*grant, grant->base() + chain.geometry().slot_bytes, data));
  EXPECT_FALSE(camera.dma_write(*grant, grant->base() + chain.geometry().slot_bytes - 32, data));
  EXPECT_FALSE(camera.dma_write(*grant, 0, data));
  EXPECT_EQ(camera.refused(), 4U);
  EXPECT_EQ(camera.writes(), 0U);
  // Nothing outside the grant changed.
  EXPECT_TRUE(std::equal(before.begin(), before.end(), chain.slot_bytes(0).begin()));
  // A write spanning two granted pages is fine: their IOVAs are contiguous.
  EXPECT_TRUE(camera.dma_write(*grant, grant->base() + 4096 - 32, data).has_value());
}

TEST(CameraSource, the_device_may_not_write_while_the_cpu_holds_access) {
  auto chain = make_chain();
  auto grant = zc::DmaGrant::for_slot(chain, 0);
  ASSERT_TRUE(grant.has_value());
  zc::CameraDevice camera;
  ASSERT_TRUE(grant->begin_cpu_access(zc::DmaSync::read).has_value());
  auto refused = camera.capture(*grant, 1, chain.geometry().row_bytes, chain.geometry().height);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message().find("CPU holds access"), std::string::npos);
  EXPECT_EQ(camera.refused(), 1U);
  ASSERT_TRUE(grant->end_cpu_access(zc::DmaSync::read).has_value());
  EXPECT_TRUE(camera.capture(*grant, 1, chain.geometry().row_bytes, chain.geometry().height));
}

TEST(CameraSource, access_calls_out_of_order_are_rejected) {
  auto chain = make_chain();
  auto grant = zc::DmaGrant::for_slot(chain, 0);
  ASSERT_TRUE(grant.has_value());
  EXPECT_FALSE(grant->end_cpu_access(zc::DmaSync::read).has_value());
  ASSERT_TRUE(grant->begin_cpu_access(zc::DmaSync::write).has_value());
  EXPECT_FALSE(grant->begin_cpu_access(zc::DmaSync::write).has_value());
  EXPECT_FALSE(grant->end_cpu_access(zc::DmaSync::read).has_value());
  EXPECT_TRUE(grant->end_cpu_access(zc::DmaSync::write).has_value());
  EXPECT_FALSE(zc::DmaGrant::for_slot(chain, 2).has_value());
}

}  // namespace
