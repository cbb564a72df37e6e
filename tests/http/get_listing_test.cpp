#include <gtest/gtest.h>

#include "zcopy/http/client/mirror_listing.hpp"

namespace zc::http {
namespace {

TEST(GetListing, ParsesTheServeFormat) {
  auto listing = parse_listing(
      R"({"path":"/sub/","entries":[{"name":"a.txt","type":"file","size":123,"mtime":1700000000},)"
      R"({"name":"d","type":"dir","mtime":1700000001,"extra":[1,{"x":null}]}]})");
  ASSERT_TRUE(listing) << listing.error().message();
  EXPECT_EQ(listing->path, "/sub/");
  ASSERT_EQ(listing->entries.size(), 2u);
  EXPECT_EQ(listing->entries[0].name, "a.txt");
  EXPECT_FALSE(listing->entries[0].directory);
  EXPECT_EQ(listing->entries[0].size, 123u);
  EXPECT_EQ(listing->entries[0].mtime, 1700000000);
  EXPECT_TRUE(listing->entries[1].directory);
}

TEST(GetListing, EscapedNamesAreDecoded) {
  auto listing = parse_listing(
      R"({"entries":[{"name":"a\"b\u00e9\u0000","type":"file","size":1,"mtime":0}]})");
  ASSERT_TRUE(listing) << listing.error().message();
  EXPECT_EQ(listing->entries[0].name, std::string("a\"b\xc3\xa9\0", 6));
}

TEST(GetListing, MalformedListingsAreRefused) {
  EXPECT_FALSE(parse_listing(""));
  EXPECT_FALSE(parse_listing("[]"));
  EXPECT_FALSE(parse_listing(R"({"path":"/"})"));
  EXPECT_FALSE(parse_listing(R"({"entries":[{"name":"a","type":"file","mtime":1}]})"));
  EXPECT_FALSE(parse_listing(R"({"entries":[{"name":"a","type":"link","size":1,"mtime":1}]})"));
  EXPECT_FALSE(parse_listing(R"({"entries":[{"name":"a","type":"file","size":1.5,"mtime":1}]})"));
  EXPECT_FALSE(parse_listing(R"({"entries":[{"name":"a","type":"file","size":-1,"mtime":1}]})"));
  EXPECT_FALSE(parse_listing(R"({"entries":[]} trailing)"));
  EXPECT_FALSE(parse_listing(R"({"entries":[],"x":)" + std::string(100, '[')));
}

TEST(GetListing, NamesThatCouldLeaveTheDirectoryAreRefusedByName) {
  EXPECT_TRUE(check_entry_name("a.txt"));
  EXPECT_TRUE(check_entry_name("..."));
  for (std::string bad : {std::string(""), std::string("."), std::string(".."), std::string("a/b"),
                          std::string("/etc"), std::string("a\0b", 3), std::string(300, 'x')}) {
    auto r = check_entry_name(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message().find("mirror entry '"), std::string::npos);
  }
  EXPECT_NE(check_entry_name("..").error().message().find("'..'"), std::string::npos);
}

}  // namespace
}  // namespace zc::http
