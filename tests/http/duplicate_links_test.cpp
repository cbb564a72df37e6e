// The Link rel=duplicate fields (RFC 6249) that name more sources of a download.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "zcopy/http/client/download_sources.hpp"

namespace zc::http {
namespace {

std::vector<std::string> links(const std::vector<std::string>& fields) {
  const Url base = *parse_url("http://origin.example/dir/file.bin");
  std::vector<std::string> out;
  for (const Url& url : duplicate_links(base, fields)) out.push_back(url.str());
  return out;
}

TEST(DuplicateLinks, TakesOnlyLinksWhoseRelationIsDuplicate) {
  EXPECT_EQ(
      links({"<http://m1.example/file.bin>; rel=duplicate; pri=1",
             "<http://other.example/x>; rel=describedby",
             "<https://m2.example/a/file.bin>; rel=\"duplicate\""}),
      (std::vector<std::string>{"http://m1.example/file.bin", "https://m2.example/a/file.bin"}));
}

TEST(DuplicateLinks, SplitsOneFieldAtCommasOutsideTheTargetAndQuotes) {
  EXPECT_EQ(links({"<http://m.example/a,b>; title=\"x, y; rel=duplicate\"; rel=next, "
                   "<http://n.example/f>; rel=\"describedby Duplicate\""}),
            (std::vector<std::string>{"http://n.example/f"}));
}

TEST(DuplicateLinks, ResolvesRelativeTargetsAgainstTheSource) {
  EXPECT_EQ(links({"</mirror/file.bin>; rel=duplicate"}),
            (std::vector<std::string>{"http://origin.example/mirror/file.bin"}));
}

TEST(DuplicateLinks, SkipsWhatIsNotWellFormed) {
  EXPECT_TRUE(links({"<ftp://m.example/f>; rel=duplicate", "<http://m.example/f; rel=duplicate",
                     "http://m.example/f; rel=duplicate", "<http://m.example/f>; rel=\"duplicate"})
                  .empty());
}

}  // namespace
}  // namespace zc::http
