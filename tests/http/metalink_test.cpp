// parse_metalink: documents shaped like the examples of RFC 5854 parse to the structure they
// describe, and every fault a Metalink from outside may carry (malformed XML, a hash without a
// type, a name that leaves the output directory, pieces that do not cover the size, relative
// URLs with nothing to resolve them against, a DTD) is refused with a line naming it.
#include "zcopy/http/client/metalink.hpp"

#include <gtest/gtest.h>

#include "zcopy/http/client/metalink_download.hpp"

namespace zc::http {
namespace {

const std::string kSha256A(64, 'a');
const std::string kSha512B(128, 'b');

// The shape of RFC 5854 section 1.1: one file, its size, a digest, two mirrors and a torrent.
const std::string kSingleFile = R"(<?xml version="1.0" encoding="UTF-8"?>
<metalink xmlns="urn:ietf:params:xml:ns:metalink">
  <file name="sample.iso">
    <size>7340032</size>
    <identity>Sample</identity>
    <version>2.4</version>
    <language>en</language>
    <description>An image to try the parser on.</description>
    <hash type="sha-256">)" + kSha256A +
                                R"(</hash>
    <url location="se" priority="1">ftp://ftp.example.org/sample.iso</url>
    <url location="nl" priority="1">http://mirror.example.org/pub/sample.iso</url>
    <metaurl mediatype="torrent" priority="2">http://example.org/sample.iso.torrent</metaurl>
  </file>
</metalink>
)";

// The shape of RFC 5854 section 1.2's larger example: a generator, dates, two files, piece
// hashes of a type we do not check beside ones we do, and mirrors out of priority order.
const std::string kTwoFiles = R"(<?xml version="1.0" encoding="UTF-8"?>
<metalink xmlns="urn:ietf:params:xml:ns:metalink" xmlns:x="urn:example:extension">
  <generator>handwritten/1.0</generator>
  <published>2026-01-02T03:04:05Z</published>
  <file name="data/part-a.bin">
    <size>10</size>
    <hash type="sha-512">)" + kSha512B +
                              R"(</hash>
    <hash type="sha-256">)" + kSha256A +
                              R"(</hash>
    <hash type="md5">0123456789abcdef0123456789abcdef</hash>
    <pieces length="4" type="sha-1">
      <hash>0000000000000000000000000000000000000000</hash>
      <hash>0000000000000000000000000000000000000000</hash>
      <hash>0000000000000000000000000000000000000000</hash>
    </pieces>
    <pieces length="4" type="sha-256">
      <hash>)" + std::string(64, '1') +
                              R"(</hash>
      <hash>)" + std::string(64, '2') +
                              R"(</hash>
      <hash>)" + std::string(64, '3') +
                              R"(</hash>
    </pieces>
    <x:unknown>extensions are skipped</x:unknown>
    <url priority="30" location="de">http://three.example.net/part-a.bin</url>
    <url>https://last.example.net/part-a.bin</url>
    <url priority="10">http://one.example.net:8080/part-a.bin</url>
    <url priority="30">http://four.example.net/part-a.bin</url>
  </file>
  <file name="part-b.txt">
    <url>http://one.example.net/part-b.txt</url>
  </file>
</metalink>
)";

std::string one_file(const std::string& inside, const std::string& name = "f.bin") {
  return R"(<metalink xmlns="urn:ietf:params:xml:ns:metalink"><file name=")" + name + R"(">)" +
         inside + "</file></metalink>";
}

std::string refusal(const std::string& document, const Url* base = nullptr) {
  auto parsed = parse_metalink(document, "test.meta4", base);
  if (parsed) return "(accepted)";
  return parsed.error().message();
}

TEST(Metalink, TheSingleFileExampleParsesToItsFileDigestAndHttpMirror) {
  auto parsed = parse_metalink(kSingleFile, "sample.meta4");
  ASSERT_TRUE(parsed) << parsed.error().message();
  ASSERT_EQ(parsed->files.size(), 1u);
  const MetalinkFile& file = parsed->files[0];
  EXPECT_EQ(file.name, "sample.iso");
  EXPECT_EQ(file.size, 7340032u);
  ASSERT_TRUE(file.checksum());
  EXPECT_EQ(file.checksum()->algorithm, secure::DigestAlgorithm::sha256);
  EXPECT_EQ(secure::to_hex(file.checksum()->value), kSha256A);
  ASSERT_EQ(file.urls.size(), 1u);  // ftp and the torrent are not fetched
  EXPECT_EQ(file.urls[0].url.str(), "http://mirror.example.org/pub/sample.iso");
  EXPECT_EQ(file.urls[0].priority, 1u);
  EXPECT_EQ(file.urls[0].location, "nl");
  ASSERT_EQ(parsed->notes.size(), 2u);
  EXPECT_NE(parsed->notes[0].find("ftp URL ignored"), std::string::npos);
  EXPECT_NE(parsed->notes[1].find("metaurl"), std::string::npos);
}

TEST(Metalink, TheTwoFileExampleSortsMirrorsByPriorityAndKeepsTheStrongestDigest) {
  auto parsed = parse_metalink(kTwoFiles, "two.meta4");
  ASSERT_TRUE(parsed) << parsed.error().message();
  ASSERT_EQ(parsed->files.size(), 2u);
  const MetalinkFile& a = parsed->files[0];
  EXPECT_EQ(a.name, "data/part-a.bin");
  EXPECT_EQ(a.hashes.size(), 2u);
  EXPECT_EQ(a.unknown_hash_types, std::vector<std::string>{"md5"});
  EXPECT_EQ(a.checksum()->algorithm, secure::DigestAlgorithm::sha512);
  ASSERT_TRUE(a.pieces);
  EXPECT_EQ(a.pieces->algorithm, secure::DigestAlgorithm::sha256);
  EXPECT_EQ(a.pieces->length, 4u);
  ASSERT_EQ(a.pieces->hashes.size(), 3u);
  EXPECT_EQ(secure::to_hex(a.pieces->hashes[2]), std::string(64, '3'));
  std::vector<std::string> order;
  for (const MetalinkUrl& url : a.urls) order.push_back(url.url.str());
  EXPECT_EQ(order,
            (std::vector<std::string>{
                "http://one.example.net:8080/part-a.bin", "http://three.example.net/part-a.bin",
                "http://four.example.net/part-a.bin", "https://last.example.net/part-a.bin"}));
  EXPECT_EQ(a.urls[1].location, "de");
  const MetalinkFile& b = parsed->files[1];
  EXPECT_FALSE(b.size);
  EXPECT_FALSE(b.checksum());
  bool md5_noted = false;
  bool sha1_noted = false;
  for (const std::string& note : parsed->notes) {
    md5_noted = md5_noted || note.find("hash type md5 ignored") != std::string::npos;
    sha1_noted = sha1_noted || note.find("piece hashes of type sha-1 ignored") != std::string::npos;
  }
  EXPECT_TRUE(md5_noted);
  EXPECT_TRUE(sha1_noted);

  // What a downloader takes: per file the URLs in order and the digest.
  const std::vector<SourcedFile> sourced = sourced_files(*parsed);
  ASSERT_EQ(sourced.size(), 2u);
  EXPECT_EQ(sourced[0].urls.size(), 4u);
  EXPECT_EQ(sourced[0].urls[0].str(), "http://one.example.net:8080/part-a.bin");
  EXPECT_EQ(sourced[0].checksum->algorithm, secure::DigestAlgorithm::sha512);
  EXPECT_EQ(sourced[0].size, 10u);
  EXPECT_TRUE(sourced[0].pieces);
}

TEST(Metalink, MalformedXmlIsRefusedNamingTheDocumentAndTheLine) {
  const std::string why = refusal("<metalink xmlns=\"urn:ietf:params:xml:ns:metalink\">\n<file>");
  EXPECT_NE(why.find("test.meta4"), std::string::npos) << why;
  EXPECT_NE(why.find("malformed XML at line"), std::string::npos) << why;
  EXPECT_NE(refusal("").find("malformed XML"), std::string::npos);
  EXPECT_NE(refusal(one_file("<url>http://h/&undefined;</url>")).find("malformed XML"),
            std::string::npos);
}

TEST(Metalink, ADocumentThatIsNotMetalinkFourIsRefused) {
  EXPECT_NE(refusal("<metalink version=\"3.0\" xmlns=\"http://www.metalinker.org/\"/>")
                .find("not a Metalink 4 document"),
            std::string::npos);
  EXPECT_NE(refusal("<metalink xmlns=\"urn:ietf:params:xml:ns:metalink\"/>").find("no file"),
            std::string::npos);
}

TEST(Metalink, ADtdIsRefusedBeforeAnyEntityIsExpanded) {
  const std::string laughs = R"(<?xml version="1.0"?>
<!DOCTYPE metalink [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<metalink xmlns="urn:ietf:params:xml:ns:metalink"><file name="&b;"><url>http://h/x</url></file></metalink>)";
  EXPECT_NE(refusal(laughs).find("DOCTYPE"), std::string::npos);
  const std::string external = R"(<!DOCTYPE m SYSTEM "file:///etc/passwd"><metalink/>)";
  EXPECT_NE(refusal(external).find("DOCTYPE"), std::string::npos);
  EXPECT_NE(refusal(std::string(kMaxMetalinkBytes + 1, ' ')).find("larger than 4 MiB"),
            std::string::npos);
}

TEST(Metalink, AHashWithoutATypeIsRefusedAndAnUnknownTypeIsIgnoredWithANote) {
  EXPECT_NE(refusal(one_file("<hash>" + kSha256A + "</hash><url>http://h/f</url>"))
                .find("a <hash> without a type"),
            std::string::npos);
  auto parsed = parse_metalink(
      one_file("<hash type=\"whirlpool\">00ff</hash><url>http://h/f</url>"), "t.meta4");
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_FALSE(parsed->files[0].checksum());
  EXPECT_EQ(parsed->files[0].unknown_hash_types, std::vector<std::string>{"whirlpool"});
  ASSERT_EQ(parsed->notes.size(), 1u);
  EXPECT_NE(parsed->notes[0].find("whirlpool ignored"), std::string::npos);
}

TEST(Metalink, ADigestOfTheWrongLengthOrNotHexIsRefused) {
  EXPECT_NE(refusal(one_file("<hash type=\"sha-256\">abcd</hash><url>http://h/f</url>"))
                .find("4 hex digits, sha-256 has 64"),
            std::string::npos);
  EXPECT_NE(refusal(one_file("<hash type=\"sha-256\">" + std::string(64, 'g') +
                             "</hash><url>http://h/f</url>"))
                .find("not hexadecimal"),
            std::string::npos);
}

TEST(Metalink, NamesThatLeaveTheOutputDirectoryAreRefused) {
  for (const std::string name : {"../x", "/etc/passwd", "a/../../b", "", "a//b", "./a", "dir/",
                                 "..", "a&#9;b", "a&#127;b"}) {
    SCOPED_TRACE(name);
    const std::string why = refusal(one_file("<url>http://h/f</url>", name));
    EXPECT_NE(why.find("refused"), std::string::npos) << why;
  }
  EXPECT_NE(refusal("<metalink xmlns=\"urn:ietf:params:xml:ns:metalink\"><file><url>http://h/f"
                    "</url></file></metalink>")
                .find("without a name"),
            std::string::npos);
  EXPECT_EQ(metalink_name_fault("a/../../b"), "it has a \"..\" segment");
  EXPECT_EQ(metalink_name_fault("/etc/passwd"), "it is an absolute path");
  EXPECT_EQ(metalink_name_fault("sub/dir/file.bin"), "");
  EXPECT_EQ(metalink_name_fault("..data"), "");
}

TEST(Metalink, AFileListedTwiceIsRefused) {
  const std::string twice = R"(<metalink xmlns="urn:ietf:params:xml:ns:metalink">
    <file name="a"><url>http://h/a</url></file><file name="a"><url>http://h/b</url></file>
    </metalink>)";
  EXPECT_NE(refusal(twice).find("listed twice"), std::string::npos);
}

TEST(Metalink, PiecesNeedTheSizeAndExactlyTheHashesItTakes) {
  const std::string hash = "<hash>" + kSha256A + "</hash>";
  EXPECT_NE(refusal(one_file("<pieces length=\"4\" type=\"sha-256\">" + hash +
                             "</pieces><url>http://h/f</url>"))
                .find("need the file's <size>"),
            std::string::npos);
  // 9 bytes in pieces of 4 take three hashes: two and four are both wrong.
  for (const std::string& hashes : {hash + hash, hash + hash + hash + hash}) {
    EXPECT_NE(refusal(one_file("<size>9</size><pieces length=\"4\" type=\"sha-256\">" + hashes +
                               "</pieces><url>http://h/f</url>"))
                  .find("needs 3"),
              std::string::npos);
  }
  EXPECT_NE(refusal(one_file("<size>9</size><pieces length=\"0\" type=\"sha-256\">" + hash +
                             "</pieces><url>http://h/f</url>"))
                .find("not a positive number"),
            std::string::npos);
  auto fits = parse_metalink(one_file("<size>9</size><pieces length=\"4\" type=\"sha-256\">" +
                                      hash + hash + hash + "</pieces><url>http://h/f</url>"),
                             "t.meta4");
  ASSERT_TRUE(fits) << fits.error().message();
  EXPECT_EQ(fits->files[0].pieces->hashes.size(), 3u);
}

TEST(Metalink, ABadSizeOrPriorityIsRefused) {
  EXPECT_NE(refusal(one_file("<size>-1</size><url>http://h/f</url>")).find("not a number"),
            std::string::npos);
  EXPECT_NE(refusal(one_file("<url priority=\"0\">http://h/f</url>")).find("priority"),
            std::string::npos);
  EXPECT_NE(refusal(one_file("<url>ftp://h/f</url>")).find("no http or https URL"),
            std::string::npos);
}

TEST(Metalink, RelativeUrlsResolveAgainstTheDocumentsUrlAndAreRefusedFromALocalFile) {
  const std::string doc = one_file("<url>files/f.bin</url><url>/top.bin</url>");
  const std::string why = refusal(doc);
  EXPECT_NE(why.find("relative URL \"files/f.bin\""), std::string::npos) << why;
  EXPECT_NE(why.find("local file"), std::string::npos) << why;
  const Url base = *parse_url("http://example.org:8080/meta/set.meta4");
  auto parsed = parse_metalink(doc, base.str(), &base);
  ASSERT_TRUE(parsed) << parsed.error().message();
  ASSERT_EQ(parsed->files[0].urls.size(), 2u);
  EXPECT_EQ(parsed->files[0].urls[0].url.str(), "http://example.org:8080/meta/files/f.bin");
  EXPECT_EQ(parsed->files[0].urls[1].url.str(), "http://example.org:8080/top.bin");
}

TEST(Metalink, TheMediaTypeIsRecognisedWithParametersAndInAnyCase) {
  EXPECT_TRUE(is_metalink_media_type("application/metalink4+xml"));
  EXPECT_TRUE(is_metalink_media_type("Application/Metalink4+XML; charset=utf-8"));
  EXPECT_FALSE(is_metalink_media_type("application/metalink+xml"));
  EXPECT_FALSE(is_metalink_media_type("application/xml"));
}

}  // namespace
}  // namespace zc::http
