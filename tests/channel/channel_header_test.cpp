// validate_channel_header() treats a control region as untrusted input: every mismatch or
// truncation is Errc::corrupt with a reason that names the field.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "zcopy/channel/channel_layout.hpp"

namespace {

struct alignas(64) Aligned {
  std::byte bytes[64];
};

class ChannelHeader : public ::testing::Test {
 protected:
  void SetUp() override {
    geometry_ = zc::channel_geometry(4096, 100, 32);
    storage_.resize(geometry_.total_bytes / 64 + 1);
    initialise_channel_region(region(), geometry_);
  }
  std::span<std::byte> region() {
    return std::as_writable_bytes(std::span(storage_)).first(geometry_.total_bytes);
  }
  zc::ChannelHeader& header() { return *reinterpret_cast<zc::ChannelHeader*>(storage_.data()); }
  std::string reason() {
    auto result = zc::validate_channel_header(region());
    if (result) return "accepted";
    EXPECT_EQ(result.error().code(), zc::Errc::corrupt);
    return result.error().message();
  }

  zc::ChannelGeometry geometry_;
  std::vector<Aligned> storage_;
};

TEST_F(ChannelHeader, AFreshlyLaidOutRegionValidatesToItsGeometry) {
  auto result = zc::validate_channel_header(region());
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(result->chunk_size, 4096U);
  EXPECT_EQ(result->chunk_count, 100U);
  EXPECT_EQ(result->queue_depth, 32U);
  EXPECT_EQ(result->release_capacity, 128U);
  EXPECT_EQ(result->total_bytes, geometry_.total_bytes);
}

TEST_F(ChannelHeader, EveryTruncationIsRefused) {
  for (std::size_t size = 0; size < geometry_.total_bytes; size += 13) {
    auto result = zc::validate_channel_header(region().first(size));
    ASSERT_FALSE(result) << size;
    EXPECT_EQ(result.error().code(), zc::Errc::corrupt);
  }
  EXPECT_NE(reason().find("accepted"), std::string::npos);
  auto cut = zc::validate_channel_header(region().first(geometry_.total_bytes - 1));
  ASSERT_FALSE(cut);
  EXPECT_NE(cut.error().message().find("exceeds region size"), std::string::npos);
}

TEST_F(ChannelHeader, EachFieldMismatchNamesTheField) {
  header().magic ^= 1;
  EXPECT_NE(reason().find("bad magic"), std::string::npos);
  header().magic ^= 1;
  header().layout_version = 7;
  EXPECT_NE(reason().find("layout version 7"), std::string::npos);
  header().layout_version = zc::ChannelHeader::kLayoutVersion;
  header().queue_depth = 48;
  EXPECT_NE(reason().find("queue depth 48"), std::string::npos);
  header().queue_depth = 32;
  header().chunk_count = 0;
  EXPECT_NE(reason().find("chunk count 0"), std::string::npos);
  header().chunk_count = 100;
  header().release_capacity = 64;
  EXPECT_NE(reason().find("release ring capacity 64"), std::string::npos);
  header().release_capacity = 128;
  header().descriptor_offset += 64;
  EXPECT_NE(reason().find("descriptor offset"), std::string::npos);
  header().descriptor_offset -= 64;
  header().release_offset = 1U << 30;
  EXPECT_NE(reason().find("release ring offset"), std::string::npos);
  header().release_offset = geometry_.release_offset;
  header().total_bytes += 1;
  EXPECT_NE(reason().find("total size"), std::string::npos);
  header().total_bytes -= 1;
  header().backpressure = 2;
  EXPECT_NE(reason().find("back-pressure mode 2"), std::string::npos);
  header().backpressure = 0;
  header().remote_fences = 4;
  EXPECT_NE(reason().find("fence mode 4"), std::string::npos);
  header().remote_fences = zc::kPublisherFenced | zc::kSubscriberFenced;
  EXPECT_EQ(reason(), "accepted");
}

}  // namespace
