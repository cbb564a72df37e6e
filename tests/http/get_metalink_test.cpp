// zcopy get --metalink against real `zcopy serve` processes: a two-file Metalink arrives
// byte-exact, a wrong digest leaves no file and names both digests, names that would leave the
// output directory write nothing, a URL that answers application/metalink4+xml is followed (or
// saved with --no-metalink), and a bad piece from one mirror is fetched again from another while
// all mirrors deliver at once. Each source's first connection starts on its own piece (the first
// URL on piece 0, the second on piece 1, ...), which lets a test place a bad byte where a given
// source fetches it.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <vector>

#include "bench/support/peer_server.hpp"
#include "get_json.hpp"
#include "http_test_support.hpp"
#include "serve_process.hpp"
#include "support/capability_gate.hpp"
#include "support/shell_command.hpp"
#include "zcopy/secure/digest.hpp"

namespace zc::test {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kPiece = 256 << 10;
constexpr std::size_t kBigBytes = 5 * kPiece + 1234;  // six pieces, the last one short

std::string sha256_hex(std::string_view bytes) {
  auto digest = secure::Digest::create(secure::DigestAlgorithm::sha256);
  (void)digest->update({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
  return secure::to_hex(*digest->finish());
}

std::string metalink(const std::string& files) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<metalink xmlns=\"urn:ietf:params:xml:ns:metalink\">\n" +
         files + "</metalink>\n";
}

std::string file_entry(const std::string& name, const std::string& bytes,
                       const std::vector<std::string>& urls, const std::string& sha256,
                       bool pieces = false) {
  std::string text =
      "<file name=\"" + name + "\"><size>" + std::to_string(bytes.size()) + "</size>";
  if (!sha256.empty()) text += "<hash type=\"sha-256\">" + sha256 + "</hash>";
  if (pieces) {
    text += "<pieces length=\"" + std::to_string(kPiece) + "\" type=\"sha-256\">";
    for (std::size_t at = 0; at < bytes.size(); at += kPiece) {
      text += "<hash>" + sha256_hex(std::string_view(bytes).substr(at, kPiece)) + "</hash>";
    }
    text += "</pieces>";
  }
  for (std::size_t i = 0; i < urls.size(); ++i) {
    text += "<url priority=\"" + std::to_string(i + 1) + "\">" + urls[i] + "</url>";
  }
  return text + "</file>\n";
}

class GetMetalink : public ::testing::Test {
 protected:
  void SetUp() override {
    ZC_REQUIRE_TOOL();
    fs::create_directories(dir_ / "a");
    fs::create_directories(dir_ / "b");
    big_ = generated_bytes(kBigBytes, 23);
    small_ = "a small second file\n";
    ASSERT_TRUE(write_file(dir_ / "a/big.bin", big_));
    ASSERT_TRUE(write_file(dir_ / "b/big.bin", big_));
    ASSERT_TRUE(write_file(dir_ / "a/small.txt", small_));
  }

  // A `zcopy serve` of `root`; its base URL ends in '/'.
  std::string serve(const std::string& root) {
    servers_.push_back(std::make_unique<ServeProcess>(
        std::vector<std::string>{zcopy_tool(), "serve", root, "--port", "0"}));
    const std::string& url = servers_.back()->url();
    EXPECT_FALSE(url.empty()) << servers_.back()->stderr_text();
    return url.ends_with('/') ? url : url + "/";
  }

  CommandResult get(const std::string& args) {
    return run_command(zcopy_tool() + " get " + args + " 2>&1");
  }

  std::string write_metalink(const std::string& text) {
    const std::string path = dir_ / "set.meta4";
    EXPECT_TRUE(write_file(path, text));
    return path;
  }

  std::string out() const { return dir_ / "out"; }
  // What the output directory holds, names relative to it.
  std::vector<std::string> listing(const std::string& where) const {
    std::vector<std::string> names;
    if (!fs::exists(where)) return names;
    for (const auto& entry : fs::recursive_directory_iterator(where)) {
      names.push_back(fs::relative(entry.path(), where).string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  TempDir dir_;
  std::string big_;
  std::string small_;
  std::vector<std::unique_ptr<ServeProcess>> servers_;
};

TEST_F(GetMetalink, TwoFilesWithSha256ArriveByteExact) {
  const std::string a = serve(dir_ / "a");
  const std::string path = write_metalink(
      metalink(file_entry("big.bin", big_, {a + "big.bin"}, sha256_hex(big_)) +
               file_entry("docs/small.txt", small_, {a + "small.txt"}, sha256_hex(small_))));
  auto got = get("--metalink " + path + " -o " + out());
  ASSERT_EQ(got.exit_code, 0) << got.output;
  EXPECT_EQ(read_file(out() + "/big.bin"), big_);
  EXPECT_EQ(read_file(out() + "/docs/small.txt"), small_);
  EXPECT_EQ(listing(out()), (std::vector<std::string>{"big.bin", "docs", "docs/small.txt"}));
  EXPECT_NE(got.output.find("sha-256 verified (metalink)"), std::string::npos) << got.output;
}

TEST_F(GetMetalink, AWrongDigestLeavesNoFileAndNamesBothDigests) {
  const std::string a = serve(dir_ / "a");
  const std::string wrong(64, 'c');
  const std::string path =
      write_metalink(metalink(file_entry("big.bin", big_, {a + "big.bin"}, wrong)));
  auto got = get("--metalink " + path + " -o " + out());
  EXPECT_EQ(got.exit_code, 1) << got.output;
  EXPECT_NE(got.output.find("expected " + wrong), std::string::npos) << got.output;
  EXPECT_NE(got.output.find("found " + sha256_hex(big_)), std::string::npos) << got.output;
  EXPECT_EQ(listing(out()), std::vector<std::string>{});
}

TEST_F(GetMetalink, NamesThatLeaveTheOutputDirectoryWriteNothing) {
  const std::string a = serve(dir_ / "a");
  const std::string absolute = dir_ / "escaped-absolute";
  for (const std::string& name : {std::string("../escaped"), absolute, std::string("x/../../b")}) {
    SCOPED_TRACE(name);
    const std::string path = write_metalink(
        metalink(file_entry("fine.txt", small_, {a + "small.txt"}, sha256_hex(small_)) +
                 file_entry(name, small_, {a + "small.txt"}, sha256_hex(small_))));
    auto got = get("--metalink " + path + " -o " + out());
    EXPECT_EQ(got.exit_code, 1) << got.output;
    EXPECT_NE(got.output.find("refused"), std::string::npos) << got.output;
    EXPECT_EQ(listing(dir_.path()), (std::vector<std::string>{"a", "a/big.bin", "a/small.txt", "b",
                                                              "b/big.bin", "set.meta4"}));
  }
}

TEST_F(GetMetalink, ARelativeUrlInALocalMetalinkIsRefusedSayingWhy) {
  const std::string path =
      write_metalink(metalink(file_entry("big.bin", big_, {"big.bin"}, sha256_hex(big_))));
  auto got = get("--metalink " + path + " -o " + out());
  EXPECT_EQ(got.exit_code, 1) << got.output;
  EXPECT_NE(got.output.find("read from a local file"), std::string::npos) << got.output;
  EXPECT_FALSE(fs::exists(out()));
}

TEST_F(GetMetalink, AUrlAnsweringWithAMetalinkIsFollowedOrSavedWithNoMetalink) {
  // Served as application/metalink4+xml; its relative URLs resolve against its own URL.
  const std::string document =
      metalink(file_entry("big.bin", big_, {"big.bin"}, sha256_hex(big_)) +
               file_entry("small.txt", small_, {"small.txt"}, sha256_hex(small_)));
  ASSERT_TRUE(write_file(dir_ / "a/set.meta4", document));
  const std::string a = serve(dir_ / "a");
  auto got = get("-o " + out() + " " + a + "set.meta4");
  ASSERT_EQ(got.exit_code, 0) << got.output;
  EXPECT_NE(got.output.find("is a Metalink"), std::string::npos) << got.output;
  EXPECT_EQ(read_file(out() + "/big.bin"), big_);
  EXPECT_EQ(read_file(out() + "/small.txt"), small_);
  EXPECT_EQ(listing(out()), (std::vector<std::string>{"big.bin", "small.txt"}));

  const std::string saved = dir_ / "saved.meta4";
  auto kept = get("--no-metalink -o " + saved + " " + a + "set.meta4");
  ASSERT_EQ(kept.exit_code, 0) << kept.output;
  EXPECT_EQ(read_file(saved), document);
}

TEST_F(GetMetalink, ABadPieceFromOneMirrorIsFetchedAgainFromTheOther) {
  // Mirror a's copy has one flipped byte inside piece 0, which a fetches first; b's is right.
  std::string flipped = big_;
  flipped[777] = static_cast<char>(flipped[777] ^ 0x20);
  ASSERT_TRUE(write_file(dir_ / "a/big.bin", flipped));
  const std::string a = serve(dir_ / "a");
  const std::string b = serve(dir_ / "b");
  const std::string path = write_metalink(
      metalink(file_entry("big.bin", big_, {a + "big.bin", b + "big.bin"}, sha256_hex(big_),
                          /*pieces=*/true)));
  auto got = get("--metalink " + path + " -o " + out());
  ASSERT_EQ(got.exit_code, 0) << got.output;
  EXPECT_EQ(read_file(out() + "/big.bin"), big_);
  EXPECT_EQ(listing(out()), std::vector<std::string>{"big.bin"});
  EXPECT_NE(got.output.find("1 bad sha-256 piece(s) fetched again"), std::string::npos)
      << got.output;
  EXPECT_NE(got.output.find(a + "big.bin: 1 bad"), std::string::npos) << got.output;
  EXPECT_NE(got.output.find("6 sha-256 pieces verified"), std::string::npos) << got.output;
}

TEST_F(GetMetalink, APieceNoMirrorHasRightFailsTheFileAndLeavesOnlyThePart) {
  std::string flipped = big_;
  flipped[kPiece + 5] = static_cast<char>(flipped[kPiece + 5] ^ 0x01);
  ASSERT_TRUE(write_file(dir_ / "a/big.bin", flipped));
  ASSERT_TRUE(write_file(dir_ / "b/big.bin", flipped));
  const std::string a = serve(dir_ / "a");
  const std::string b = serve(dir_ / "b");
  const std::string path = write_metalink(
      metalink(file_entry("big.bin", big_, {a + "big.bin", b + "big.bin"}, sha256_hex(big_),
                          /*pieces=*/true)));
  auto got = get("--metalink " + path + " -o " + out());
  EXPECT_EQ(got.exit_code, 1) << got.output;
  EXPECT_NE(got.output.find("piece 1 (bytes " + std::to_string(kPiece) + "-"), std::string::npos)
      << got.output;
  EXPECT_NE(got.output.find("matches its sha-256 from no source"), std::string::npos) << got.output;
  // No big.bin: only the .part and its record, whose verified pieces a --continue keeps.
  EXPECT_EQ(listing(out()),
            (std::vector<std::string>{"big.bin.unverified.part", "big.bin.unverified.part.zcopy"}));
}

TEST_F(GetMetalink, AMirrorThatSentThreeBadPiecesIsDropped) {
  // Every piece of a's copy is wrong; with three connections a starts on pieces 0-2, sends three
  // bad ones, and gets no more. b has them right.
  std::string flipped = big_;
  for (std::size_t at = 9; at < flipped.size(); at += kPiece) {
    flipped[at] = static_cast<char>(flipped[at] ^ 0x04);
  }
  ASSERT_TRUE(write_file(dir_ / "a/big.bin", flipped));
  const std::string a = serve(dir_ / "a");
  const std::string b = serve(dir_ / "b");
  const std::string path = write_metalink(metalink(file_entry(
      "big.bin", big_, {a + "big.bin", b + "big.bin"}, sha256_hex(big_), /*pieces=*/true)));
  auto got = get("--metalink " + path + " --max-per-source 3 -o " + out());
  ASSERT_EQ(got.exit_code, 0) << got.output;
  EXPECT_EQ(read_file(out() + "/big.bin"), big_);
  EXPECT_NE(got.output.find(a + "big.bin: 0 B (0%)"), std::string::npos) << got.output;
  EXPECT_NE(got.output.find("pieces did not match their sha-256"), std::string::npos) << got.output;
  EXPECT_NE(got.output.find(b + "big.bin: 0 bad"), std::string::npos) << got.output;
}

TEST_F(GetMetalink, ThreeMirrorsDeliverAtOnceAndABadPieceIsFetchedFromAnother) {
  // 24 pieces; the third mirror's copy has a flipped byte in piece 2, the piece it starts on.
  const std::string many = generated_bytes(24 * kPiece, 29);
  std::string flipped = many;
  flipped[2 * kPiece + 4321] = static_cast<char>(flipped[2 * kPiece + 4321] ^ 0x10);
  fs::create_directories(dir_ / "c");
  ASSERT_TRUE(write_file(dir_ / "a/many.bin", many));
  ASSERT_TRUE(write_file(dir_ / "b/many.bin", many));
  ASSERT_TRUE(write_file(dir_ / "c/many.bin", flipped));
  const std::vector<std::string> urls = {serve(dir_ / "a") + "many.bin",
                                         serve(dir_ / "b") + "many.bin",
                                         serve(dir_ / "c") + "many.bin"};
  const std::string path = write_metalink(
      metalink(file_entry("many.bin", many, urls, sha256_hex(many), /*pieces=*/true)));
  auto got = get("--metalink " + path + " --json -o " + out());
  ASSERT_EQ(got.exit_code, 0) << got.output;
  EXPECT_EQ(read_file(out() + "/many.bin"), many);
  EXPECT_NE(got.output.find("1 bad sha-256 piece(s) fetched again"), std::string::npos)
      << got.output;
  EXPECT_NE(got.output.find("24 sha-256 pieces verified, sha-256 verified (metalink)"),
            std::string::npos)
      << got.output;
  // Every mirror delivered some of the file (bad bytes are not counted), and together all of it.
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < urls.size(); ++i) {
    SCOPED_TRACE(urls[i]);
    const auto bytes = source_bytes_in(got.output, urls[i]);
    ASSERT_TRUE(bytes) << got.output;
    EXPECT_GT(*bytes, 0u) << got.output;
    total += *bytes;
    const std::string bad = i == 2 ? "\"bad_pieces\":1" : "\"bad_pieces\":0";
    EXPECT_NE(got.output.find(bad, got.output.find("\"url\":\"" + urls[i])), std::string::npos)
        << got.output;
  }
  EXPECT_EQ(total, many.size());
}

TEST_F(GetMetalink, AResumedPartHasItsPiecesHashedBeforeTheyCountAsDone) {
  // The only mirror first serves piece 1 wrong: the run fails after piece 0, which it keeps.
  const std::string source = dir_ / "a/big.bin";
  std::string flipped = big_;
  flipped[kPiece + 5] = static_cast<char>(flipped[kPiece + 5] ^ 0x01);
  ASSERT_TRUE(write_file(source, flipped));
  const auto stamp = fs::last_write_time(source);
  const std::string a = serve(dir_ / "a");
  const std::string path = write_metalink(
      metalink(file_entry("big.bin", big_, {a + "big.bin"}, sha256_hex(big_), /*pieces=*/true)));
  auto first = get("--metalink " + path + " -o " + out());
  ASSERT_EQ(first.exit_code, 1) << first.output;
  // The mirror is mended with its validators kept; piece 0 of the .part goes bad on disk.
  ASSERT_TRUE(write_file(source, big_));
  fs::last_write_time(source, stamp);
  const std::string part = out() + "/big.bin.unverified.part";
  std::string held = read_file(part);
  ASSERT_EQ(held.size(), big_.size());
  held[17] = static_cast<char>(held[17] ^ 0x40);
  ASSERT_TRUE(write_file(part, held));
  auto resumed = get("--metalink " + path + " -c -o " + out());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_EQ(read_file(out() + "/big.bin"), big_);
  EXPECT_EQ(listing(out()), std::vector<std::string>{"big.bin"});
}

TEST_F(GetMetalink, MirrorsWithoutByteRangesAreFetchedOneAfterAnother) {
  // python's http.server offers no ranges: no multi-source download, the first URL whole.
  const std::uint16_t port = bench::free_port();
  auto python = bench::PeerServer::start({"python3", "-m", "http.server", "--bind", "127.0.0.1",
                                          "--directory", dir_ / "a", std::to_string(port)},
                                         "127.0.0.1", port, dir_ / "python.log", "python3");
  ASSERT_TRUE(python) << python.error().message();
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/big.bin";
  const std::string path = write_metalink(
      metalink(file_entry("big.bin", big_, {url, url}, sha256_hex(big_), /*pieces=*/true)));
  auto got = get("--metalink " + path + " -o " + out());
  ASSERT_EQ(got.exit_code, 0) << got.output;
  EXPECT_EQ(read_file(out() + "/big.bin"), big_);
  EXPECT_EQ(listing(out()), std::vector<std::string>{"big.bin"});
  EXPECT_NE(got.output.find("6 sha-256 pieces verified"), std::string::npos) << got.output;
}

TEST_F(GetMetalink, PieceHashesOutrankTheDigestABadMirrorSendsOfItsCopy) {
  // No whole-file hash; a's Repr-Digest is that of its copy, whose piece 0 is wrong.
  std::string flipped = big_;
  flipped[99] = static_cast<char>(flipped[99] ^ 0x02);
  ASSERT_TRUE(write_file(dir_ / "a/big.bin", flipped));
  const std::string a = serve(dir_ / "a");
  const std::string b = serve(dir_ / "b");
  const std::string path = write_metalink(
      metalink(file_entry("big.bin", big_, {a + "big.bin", b + "big.bin"}, "", /*pieces=*/true)));
  auto got = get("--metalink " + path + " -o " + out());
  ASSERT_EQ(got.exit_code, 0) << got.output;
  EXPECT_EQ(read_file(out() + "/big.bin"), big_);
  EXPECT_NE(got.output.find("6 sha-256 pieces verified (metalink)"), std::string::npos)
      << got.output;
}

TEST_F(GetMetalink, ALocalMetalinkLargerThanTheLimitIsRefusedUnread) {
  const std::string path = write_metalink(std::string((4u << 20) + 1, ' '));
  auto got = get("--metalink " + path + " -o " + out());
  EXPECT_EQ(got.exit_code, 1) << got.output;
  EXPECT_NE(got.output.find("larger than 4 MiB"), std::string::npos) << got.output;
}

TEST_F(GetMetalink, AMetalinkWithAUrlOrAChecksumIsAUsageError) {
  const std::string path =
      write_metalink(metalink(file_entry("big.bin", big_, {"http://h/big.bin"}, sha256_hex(big_))));
  EXPECT_EQ(get("--metalink " + path + " http://h/x").exit_code, 2);
  EXPECT_EQ(get("--metalink " + path + " --checksum sha-256=" + sha256_hex(big_)).exit_code, 2);
}

}  // namespace
}  // namespace zc::test
