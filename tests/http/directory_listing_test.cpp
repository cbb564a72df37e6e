#include "zcopy/http/directory_listing.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "http_test_support.hpp"

namespace zc::http {
namespace {

TEST(DirectoryListing, JsonIsExactlyTheMirrorInterface) {
  const std::vector<ListingEntry> entries{
      {.name = "a.txt", .directory = false, .size = 123, .mtime = 1700000000},
      {.name = "d", .directory = true, .size = 0, .mtime = 1700000000},
      {.name = "q\"\\\n", .directory = false, .size = 0, .mtime = 1}};
  EXPECT_EQ(listing_json("/sub/", entries),
            "{\"path\":\"/sub/\",\"entries\":["
            "{\"name\":\"a.txt\",\"type\":\"file\",\"size\":123,\"mtime\":1700000000},"
            "{\"name\":\"d\",\"type\":\"dir\",\"mtime\":1700000000},"
            "{\"name\":\"q\\\"\\\\\\n\",\"type\":\"file\",\"size\":0,\"mtime\":1}]}\n");
}

TEST(DirectoryListing, ListsFilesDirsAndInsideLinksButNothingThatLeaves) {
  test::TempDir outside;
  test::TempDir root;
  ASSERT_TRUE(test::write_file(outside / "secret", "s"));
  ASSERT_EQ(::mkdir((root / "sub").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((root / "sub/inner").c_str(), 0755), 0);
  ASSERT_TRUE(test::write_file(root / "sub/b.bin", "12345"));
  ASSERT_TRUE(test::write_file(root / "top.txt", "t"));
  ASSERT_EQ(::symlink("../top.txt", (root / "sub/to_top").c_str()), 0);  // inside: a file
  ASSERT_EQ(::symlink("inner", (root / "sub/to_inner").c_str()), 0);     // inside: a dir
  ASSERT_EQ(::symlink((outside / "secret").c_str(), (root / "sub/abs_out").c_str()), 0);
  ASSERT_EQ(::symlink("../../../../../../../etc/passwd", (root / "sub/rel_out").c_str()), 0);
  ASSERT_EQ(::symlink("missing", (root / "sub/dangling").c_str()), 0);
  ASSERT_EQ(::mkfifo((root / "sub/fifo").c_str(), 0644), 0);
  const timeval times[2] = {{1700000000, 0}, {1700000000, 0}};
  ASSERT_EQ(::utimes((root / "sub/b.bin").c_str(), times), 0);

  Fd root_fd = Fd::adopt(::open(root.path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  auto entries = list_directory(root_fd.get(), "sub");
  ASSERT_TRUE(entries) << entries.error().message();
  ASSERT_EQ(entries->size(), 4U);
  EXPECT_EQ((*entries)[0].name, "b.bin");
  EXPECT_EQ((*entries)[0].size, 5U);
  EXPECT_EQ((*entries)[0].mtime, 1700000000);
  EXPECT_EQ((*entries)[1].name, "inner");
  EXPECT_TRUE((*entries)[1].directory);
  EXPECT_EQ((*entries)[2].name, "to_inner");
  EXPECT_TRUE((*entries)[2].directory);
  EXPECT_EQ((*entries)[3].name, "to_top");
  EXPECT_FALSE((*entries)[3].directory);
  EXPECT_EQ((*entries)[3].size, 1U);
}

TEST(DirectoryListing, HtmlEscapesNamesAndLinks) {
  const std::string html = listing_html("/<x>/", {{.name = "a&b <c>.txt", .size = 3}});
  EXPECT_NE(html.find("Index of /&lt;x&gt;/"), std::string::npos);
  EXPECT_NE(html.find("href=\"a%26b%20%3Cc%3E.txt\""), std::string::npos);
  EXPECT_NE(html.find(">a&amp;b &lt;c&gt;.txt</a>"), std::string::npos);
}

// Links are one relative segment each: none can start with "//" (another host) or carry a scheme.
TEST(DirectoryListing, HtmlIsATableOfNameHumanSizeAndTimeWithDirectoriesFirst) {
  const std::string html =
      listing_html("/d/", {{.name = "a.txt", .size = 1536, .mtime = 1700000000},
                           {.name = "b<dir>", .directory = true, .mtime = 1600000000},
                           {.name = "c.bin", .size = 3ULL << 30, .mtime = 0},
                           {.name = "A", .directory = true, .mtime = 1700000060}});
  EXPECT_NE(html.find("<table>"), std::string::npos) << html;
  EXPECT_NE(html.find("<th>Name</th><th>Size</th><th>Last modified (UTC)</th>"), std::string::npos)
      << html;
  const std::size_t dir_a = html.find(">A/</a>");
  const std::size_t dir_b = html.find(">b&lt;dir&gt;/</a>");
  const std::size_t file_a = html.find(">a.txt</a>");
  const std::size_t file_c = html.find(">c.bin</a>");
  ASSERT_NE(dir_a, std::string::npos) << html;
  ASSERT_NE(dir_b, std::string::npos) << html;
  ASSERT_NE(file_a, std::string::npos) << html;
  ASSERT_NE(file_c, std::string::npos) << html;
  EXPECT_LT(dir_a, dir_b);
  EXPECT_LT(dir_b, file_a) << "directories come first";
  EXPECT_LT(file_a, file_c);
  EXPECT_NE(html.find(">a.txt</a></td><td class=\"size\">1.5 KiB</td><td>2023-11-14 22:13</td>"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find(">c.bin</a></td><td class=\"size\">3.0 GiB</td><td>1970-01-01 00:00</td>"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find(">b&lt;dir&gt;/</a></td><td class=\"size\">-</td>"), std::string::npos)
      << html;
}

TEST(DirectoryListing, HtmlLinksStayRelativeToTheListedDirectory) {
  const std::string html =
      listing_html("/d/", {{.name = "http:x", .size = 1}, {.name = "sub", .directory = true}});
  EXPECT_NE(html.find("href=\"http%3Ax\""), std::string::npos) << html;
  EXPECT_NE(html.find("href=\"sub/\""), std::string::npos) << html;
  EXPECT_NE(html.find("href=\"../\""), std::string::npos) << html;
  EXPECT_EQ(html.find("href=\"/"), std::string::npos) << html;
}

}  // namespace
}  // namespace zc::http
