#include "zcopy/http/url_path.hpp"

#include <gtest/gtest.h>

#include "zcopy/http/server/mime_types.hpp"

namespace zc::http {
namespace {

TEST(UrlPath, DecodesAndNormalisesBeneathTheRoot) {
  auto p = resolve_target("/a%20b//./c.txt?x=1");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->relative, "a b/c.txt");
  EXPECT_EQ(p->url_path, "/a b/c.txt");
  EXPECT_EQ(p->raw_path, "/a%20b//./c.txt");
  EXPECT_EQ(p->query, "x=1");
  EXPECT_FALSE(p->trailing_slash);
  p = resolve_target("/");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->relative, ".");
  EXPECT_EQ(p->url_path, "/");
  EXPECT_TRUE(p->trailing_slash);
  p = resolve_target("/d/");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->url_path, "/d/");
}

TEST(UrlPath, RefusesTraversalInEverySpelling) {
  for (const char* target : {"/..", "/../etc/passwd", "/a/../../b", "/%2e%2e/etc/passwd",
                             "/%2E%2E%2Fetc", "/a/%2e%2e%2f%2e%2e%2fetc", "/a%00b", "/.%2e/"}) {
    auto p = resolve_target(target);
    ASSERT_FALSE(p) << target;
    EXPECT_EQ(p.error(), 403) << target;
  }
}

TEST(UrlPath, RejectsTargetsThatAreNotOriginForm) {
  for (const char* target : {"", "*", "http://host/a", "a.txt", "/%", "/%4", "/%zz", "/a#frag"}) {
    auto p = resolve_target(target);
    ASSERT_FALSE(p) << target;
    EXPECT_EQ(p.error(), 400) << target;
  }
}

TEST(UrlPath, AbsolutePathsStayInsideTheRoot) {
  auto p = resolve_target("//etc/passwd");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->relative, "etc/passwd");
}

TEST(UrlPath, EncodesEverythingButUnreservedAndSlash) {
  EXPECT_EQ(percent_encode_path("/a b/c:d?%\"<>"), "/a%20b/c%3Ad%3F%25%22%3C%3E");
  EXPECT_EQ(percent_encode_path("A-Z_a.z~0/9"), "A-Z_a.z~0/9");
}

TEST(MimeTypes, ChoosesByExtensionIgnoringCase) {
  EXPECT_EQ(mime_type("index.HTML"), "text/html; charset=utf-8");
  EXPECT_EQ(mime_type("dir.d/genome.fa.gz"), "application/gzip");
  EXPECT_EQ(mime_type("README"), "application/octet-stream");
  EXPECT_EQ(mime_type(".bashrc"), "application/octet-stream");
  EXPECT_EQ(mime_type("data.json"), "application/json");
}

}  // namespace
}  // namespace zc::http
