// zcopy serve --cert/--key against real clients: curl and wget trusting the test CA, each TLS 1.3
// suite and TLS 1.2, ranges, HEAD, conditional requests, keep-alive, the listing, `zcopy get -r`
// over https, a plain HTTP client on the TLS port, bad certificate and key files, and a 2 GiB body
// (record sequence numbers past 2^17) checked by SHA-256.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "bench/support/tls_pki.hpp"
#include "http_test_support.hpp"
#include "serve_process.hpp"
#include "support/capability_gate.hpp"
#include "support/sanitizer.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/secure/session.hpp"

namespace zc::http {
namespace {

using test::TempDir;

const std::size_t kFileSize = 3 * kMiB + 1234;  // not a multiple of a record

class ServeOverHttps : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test::have_program("openssl")) ZC_SKIP_BECAUSE("needs the openssl program");
    if (!test::have_program("curl")) ZC_SKIP_BECAUSE("needs curl");
    std::filesystem::create_directories(dir_ / "pki");
    auto pki = bench::make_tls_pki(dir_ / "pki");
    ASSERT_TRUE(pki) << pki.error().message();
    pki_ = *pki;
    std::filesystem::create_directories(dir_ / "www/sub/deeper");
    body_ = test::generated_bytes(kFileSize, 18);
    ASSERT_TRUE(test::write_file(dir_ / "www/file.bin", body_));
    ASSERT_TRUE(test::write_file(dir_ / "www/small.txt", "hello over tls\n"));
    ASSERT_TRUE(test::write_file(dir_ / "www/sub/inner.txt", test::generated_bytes(70000, 3)));
    ASSERT_TRUE(test::write_file(dir_ / "www/sub/deeper/empty.txt", ""));
  }

  std::unique_ptr<test::ServeProcess> start(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {
        test::tool_path(), "serve", dir_ / "www",    "--port",        "0", "--cert",
        pki_.server_cert,  "--key", pki_.server_key, "--ledger-json", "-"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto serve = std::make_unique<test::ServeProcess>(argv);
    EXPECT_EQ(serve->url().rfind("https://127.0.0.1:", 0), 0u) << serve->first_line();
    return serve;
  }

  // curl trusting the test CA; stdout and stderr together.
  test::ProgramResult curl(std::vector<std::string> args) {
    std::vector<std::string> argv = {"curl", "-sS", "--cacert", pki_.ca_cert};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run_program(argv);
  }

  TempDir dir_{"zcopy-serve-https"};
  bench::TlsPki pki_;
  std::string body_;
};

TEST_F(ServeOverHttps, CurlFetchesByteExactWithEachTls13SuiteAndOverTls12) {
  auto serve = start();
  ASSERT_FALSE(serve->url().empty());
  const std::string url = serve->url() + "file.bin";
  for (const std::string suite :
       {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}) {
    const std::string out = dir_ / ("out-" + suite);
    auto run = curl({"--tlsv1.3", "--tls13-ciphers", suite, "-o", out, "-w",
                     "%{http_code} %{http_version}", url});
    ASSERT_EQ(run.exit_code, 0) << suite << ": " << run.out;
    EXPECT_EQ(run.out, "200 1.1") << suite;
    EXPECT_TRUE(test::read_file(out) == body_) << suite << ": body differs";
  }
  const std::string out12 = dir_ / "out-tls12";
  auto run = curl({"--tlsv1.2", "--tls-max", "1.2", "-o", out12, "-w", "%{http_code}", url});
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_TRUE(test::read_file(out12) == body_) << "TLS 1.2 body differs";

  auto ledger = serve->ledger();
  ASSERT_TRUE(ledger) << ledger.error().message();
  EXPECT_EQ(ledger->method, "tls");
  EXPECT_EQ(ledger->bytes, 4 * kFileSize);
  EXPECT_EQ(ledger->bytes_ciphered, 4 * kFileSize) << "the cipher passed over every body byte";
  EXPECT_EQ(ledger->bytes_copied_user, 0u);
  // TLS 1.2 reads the file into a buffer and sends what SSL_write made: two kernel copies of
  // each byte; TLS 1.3 records leave by the zero-copy sender (loopback copies them: counted).
  EXPECT_GE(ledger->bytes_copied_kernel, 2 * kFileSize);
  EXPECT_GE(ledger->bytes_zero_copy + ledger->bytes_copied_kernel, 5 * kFileSize);
  EXPECT_EQ(serve->stop(), 0);
  EXPECT_NE(serve->stderr_text().find("through the cipher"), std::string::npos)
      << serve->stderr_text();
}

TEST_F(ServeOverHttps, WgetFetchesByteExactTrustingTheCa) {
  if (!test::have_program("wget")) ZC_SKIP_BECAUSE("needs wget");
  auto serve = start();
  const std::string out = dir_ / "wget.out";
  auto run = test::run_program(
      {"wget", "-q", "--ca-certificate=" + pki_.ca_cert, "-O", out, serve->url() + "file.bin"});
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_TRUE(test::read_file(out) == body_);
  auto refused = test::run_program({"wget", "-q", "--ca-certificate=" + pki_.other_ca_cert, "-O",
                                    dir_ / "refused.out", serve->url() + "file.bin"});
  EXPECT_NE(refused.exit_code, 0) << "wget trusted a certificate from another CA";
}

TEST_F(ServeOverHttps, RangesHeadAndConditionalRequestsAnswerAsOverHttp) {
  auto serve = start();
  const std::string url = serve->url() + "file.bin";
  // A range across a record boundary, and one at the end.
  auto range = curl({"-r", "16000-50000", url});
  ASSERT_EQ(range.exit_code, 0) << range.out;
  EXPECT_TRUE(range.out == body_.substr(16000, 34001));
  auto tail = curl({"-r", "-100", url});
  EXPECT_TRUE(tail.out == body_.substr(kFileSize - 100));
  auto beyond =
      curl({"-o", "/dev/null", "-w", "%{http_code}", "-r", std::to_string(kFileSize) + "-", url});
  EXPECT_EQ(beyond.out, "416");

  auto head = curl({"-I", url});
  ASSERT_EQ(head.exit_code, 0) << head.out;
  EXPECT_NE(head.out.find("Content-Length: " + std::to_string(kFileSize)), std::string::npos)
      << head.out;
  const std::size_t at = head.out.find("ETag: ");
  ASSERT_NE(at, std::string::npos) << head.out;
  const std::string etag = head.out.substr(at + 6, head.out.find('\r', at) - at - 6);
  auto not_modified =
      curl({"-o", "/dev/null", "-w", "%{http_code}", "-H", "If-None-Match: " + etag, url});
  EXPECT_EQ(not_modified.out, "304");
  auto modified =
      curl({"-o", "/dev/null", "-w", "%{http_code}", "-H", "If-None-Match: \"other\"", url});
  EXPECT_EQ(modified.out, "200");
  auto missing = curl({"-o", "/dev/null", "-w", "%{http_code}", serve->url() + "nothing"});
  EXPECT_EQ(missing.out, "404");
}

TEST_F(ServeOverHttps, SeveralRequestsShareOneKeptAliveConnection) {
  auto serve = start();
  const std::string a = dir_ / "a", b = dir_ / "b", c = dir_ / "c", d = dir_ / "d";
  auto run = curl({"-w", "%{num_connects} ", "-o", a, serve->url() + "file.bin", "-o", b,
                   serve->url() + "small.txt", "-o", c, serve->url() + "sub/inner.txt", "-o", d,
                   serve->url() + "file.bin"});
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_EQ(run.out, "1 0 0 0 ") << "curl opened a new connection for a later request";
  EXPECT_TRUE(test::read_file(a) == body_);
  EXPECT_EQ(test::read_file(b), "hello over tls\n");
  EXPECT_TRUE(test::read_file(c) == test::generated_bytes(70000, 3));
  EXPECT_TRUE(test::read_file(d) == body_);
  EXPECT_EQ(serve->stop(), 0);
  EXPECT_NE(serve->stderr_text().find("after 4 requests on 1 connections"), std::string::npos)
      << serve->stderr_text();
}

TEST_F(ServeOverHttps, TheListingIsServedOverTlsAsHtmlAndAsJson) {
  auto serve = start();
  auto html = curl({serve->url()});
  ASSERT_EQ(html.exit_code, 0) << html.out;
  for (const char* name : {"file.bin", "small.txt", "sub/"})
    EXPECT_NE(html.out.find(name), std::string::npos) << name << " in " << html.out;
  auto json = curl({"-H", "Accept: application/json", serve->url() + "sub/"});
  ASSERT_EQ(json.exit_code, 0) << json.out;
  EXPECT_NE(json.out.find("\"inner.txt\""), std::string::npos) << json.out;
  auto redirect =
      curl({"-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", serve->url() + "sub"});
  EXPECT_EQ(redirect.out, "301 " + serve->url() + "sub/");
}

TEST_F(ServeOverHttps, TheListingFetchedOverHttpsInHeadlessChromiumIsASortedEscapedTable) {
  ASSERT_TRUE(test::write_file(dir_ / "www/a&b <c>.txt", "x"));
  auto serve = start();
  // Chromium accepts this one certificate by its public key: no CA store is touched.
  auto spki = test::run_program(
      {"sh", "-c",
       "openssl x509 -in \"$1\" -pubkey -noout | openssl pkey -pubin -outform der | "
       "openssl dgst -sha256 -binary | base64",
       "sh", pki_.server_cert});
  ASSERT_EQ(spki.exit_code, 0) << spki.out;
  spki.out.erase(spki.out.find_last_not_of('\n') + 1);
  // Kept in the build tree (the test's working directory) for a person to look at.
  const std::string shots = std::filesystem::absolute("serve-https-listing").string();
  std::filesystem::create_directories(shots);
  auto run = test::run_program({"/usr/bin/python3",
                                std::string(ZCOPY_BENCH_REPORT_DIR) + "/check_in_chromium.py",
                                shots, serve->url(), spki.out});
  if (run.exit_code == 77) ZC_SKIP_BECAUSE("needs chromium: " + run.out);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const std::size_t at = run.out.find("rows: ");
  ASSERT_NE(at, std::string::npos) << run.out;
  const std::string rows = run.out.substr(at, run.out.find('\n', at) - at);
  const std::size_t dir = rows.find(R"(["sub/","-",)");
  const std::size_t escaped = rows.find(R"(["a&b <c>.txt","1 B",)");
  const std::size_t file = rows.find(R"(["file.bin","3.0 MiB",)");
  const std::size_t small = rows.find(R"(["small.txt","15 B",)");
  ASSERT_NE(dir, std::string::npos) << rows;
  ASSERT_NE(escaped, std::string::npos) << rows;
  ASSERT_NE(file, std::string::npos) << rows;
  ASSERT_NE(small, std::string::npos) << rows;
  EXPECT_LT(dir, escaped) << "directories first";
  EXPECT_LT(escaped, file);
  EXPECT_LT(file, small);
  EXPECT_TRUE(std::filesystem::is_regular_file(shots + "/screenshot.png"));
}

TEST_F(ServeOverHttps, GetMirrorsTheTreeOverHttpsByteExact) {
  auto serve = start();
  const std::string out = dir_ / "mirror";
  auto get = test::run_program(
      {test::tool_path(), "get", "-r", "--cacert", pki_.ca_cert, "-o", out, serve->url()});
  ASSERT_EQ(get.exit_code, 0) << get.out;
  EXPECT_TRUE(test::read_file(out + "/file.bin") == body_);
  EXPECT_EQ(test::read_file(out + "/small.txt"), "hello over tls\n");
  EXPECT_TRUE(test::read_file(out + "/sub/inner.txt") == test::generated_bytes(70000, 3));
  EXPECT_TRUE(std::filesystem::is_regular_file(out + "/sub/deeper/empty.txt"));
  EXPECT_EQ(std::filesystem::file_size(out + "/sub/deeper/empty.txt"), 0u);
}

TEST_F(ServeOverHttps, APlainHttpClientOnTheTlsPortGetsACleanCloseAndServingGoesOn) {
  auto serve = start();
  const auto port =
      static_cast<std::uint16_t>(std::stoi(serve->url().substr(serve->url().rfind(':') + 1)));
  test::RawClient client(port);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.send("GET /small.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  char reply[256];
  ssize_t n = 0;
  do {
    n = ::recv(client.fd(), reply, sizeof reply, 0);
  } while (n < 0 && errno == EINTR);
  EXPECT_EQ(n, 0) << "expected an orderly close, got "
                  << (n < 0 ? std::string(std::strerror(errno)) : std::to_string(n) + " bytes");
  auto run = curl({serve->url() + "small.txt"});
  EXPECT_EQ(run.out, "hello over tls\n");
  // plain curl to the TLS port says the server closed, nothing more.
  auto plain = test::run_program({"curl", "-sS", "http" + serve->url().substr(5) + "small.txt"});
  EXPECT_NE(plain.exit_code, 0);
  EXPECT_EQ(serve->stop(), 0);
}

TEST_F(ServeOverHttps, AFileTruncatedWhileItsRecordsAreSentEndsThatConnectionAndServingGoesOn) {
  const std::string path = dir_ / "www/shrinks.bin";
  ASSERT_TRUE(test::write_file(path, test::generated_bytes(32 * kMiB, 5)));
  auto serve = start();
  // A slow reader keeps most of the file unsent while it shrinks under the server's mapping.
  auto run = test::run_program(
      {"sh", "-c",
       "curl -sS --cacert \"$1\" --limit-rate 2M -o \"$3\" \"$2\" & sleep 1; "
       "truncate -s 1M \"$4\"; wait $!",
       "sh", pki_.ca_cert, serve->url() + "shrinks.bin", dir_ / "shrinks.out", path});
  EXPECT_NE(run.exit_code, 0) << "curl took a shortened body as whole";
  EXPECT_LT(std::filesystem::file_size(dir_ / "shrinks.out"), 32 * kMiB);
  auto after = curl({serve->url() + "small.txt"});
  EXPECT_EQ(after.out, "hello over tls\n") << "the server did not live on";
  EXPECT_EQ(serve->stop(), 0);
  EXPECT_NE(serve->stderr_text().find("/shrinks.bin shrank while being sent"), std::string::npos)
      << serve->stderr_text();
}

TEST_F(ServeOverHttps, AFileTruncatedBetweenTheSizeCheckAndTheSealingEndsOnlyThatConnection) {
  // The server checks the size before each slot of records, then seals them from its mapping:
  // a file that shrinks in between faults the mapping (SIGBUS) while the cipher reads it. Shrink
  // and regrow the file as fast as possible while curl fetches it, so that some truncations land
  // inside that window.
  const std::string path = dir_ / "www/flickers.bin";
  const auto size = static_cast<off_t>(8 * kMiB);
  ASSERT_TRUE(test::write_file(path, test::generated_bytes(8 * kMiB, 7)));
  auto serve = start();
  std::atomic<bool> stop{false};
  std::thread flicker([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      // Whole half of the time, so that half of the responses are the whole file (their
      // length is the size the server saw at open); short long enough for a read to fault.
      (void)::truncate(path.c_str(), 4096);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      (void)::truncate(path.c_str(), size);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  for (int i = 0; i < 40; ++i)
    (void)curl({"--max-time", "10", "-o", "/dev/null", serve->url() + "flickers.bin"});
  stop = true;
  flicker.join();
  auto after = curl({serve->url() + "small.txt"});
  EXPECT_EQ(after.out, "hello over tls\n") << "the server did not live on";
  EXPECT_EQ(serve->stop(), 0) << serve->stderr_text();
  EXPECT_NE(serve->stderr_text().find("/flickers.bin shrank while being sent"), std::string::npos)
      << serve->stderr_text();
}

TEST_F(ServeOverHttps, BadCertificateOrKeyFilesAreOneLineErrors) {
  const std::string www = dir_ / "www";
  ASSERT_TRUE(test::write_file(dir_ / "not-pem.txt", "hello\n"));
  const std::string other_key = dir_ / "other.key";
  auto made = test::run_program({"openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                                 "ec_paramgen_curve:P-256", "-out", other_key});
  ASSERT_EQ(made.exit_code, 0) << made.out;
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"--cert", dir_ / "missing.pem", "--key", pki_.server_key}, "No such file"},
      {{"--cert", dir_ / "not-pem.txt", "--key", pki_.server_key}, "no certificate in it"},
      {{"--cert", pki_.server_cert, "--key", dir_ / "not-pem.txt"}, "no private key in it"},
      {{"--cert", pki_.server_cert, "--key", other_key}, "does not belong to the certificate"},
      {{"--cert", pki_.server_cert}, "--cert and --key go together"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv = {test::tool_path(), "serve", www, "--port", "0"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    auto run = test::run_program(argv);
    EXPECT_EQ(run.exit_code, 2) << run.out;
    EXPECT_NE(run.out.find(c.says), std::string::npos) << run.out;
    EXPECT_EQ(std::count(run.out.begin(), run.out.end(), '\n'), 1) << run.out;
  }
}

// One HTTP/1.1 response read from `session`: its head and body (by Content-Length). When
// `update_after` bytes of body have arrived, a KeyUpdate asking the server to update too is sent.
struct ReadResponse {
  std::string head, body;
};
Result<ReadResponse> read_response(secure::Session& session, std::string& pending,
                                   std::size_t update_after = SIZE_MAX) {
  std::vector<std::byte> buffer(secure::Session::kReadRoom);
  ReadResponse response;
  std::size_t length = SIZE_MAX;
  for (;;) {
    if (length == SIZE_MAX) {
      if (const auto end = pending.find("\r\n\r\n"); end != std::string::npos) {
        response.head = pending.substr(0, end + 4);
        pending.erase(0, end + 4);
        const auto at = response.head.find("Content-Length: ");
        if (at == std::string::npos)
          return fail(Errc::corrupt, "response", "no Content-Length in " + response.head);
        length = std::stoul(response.head.substr(at + 16));
      }
    }
    if (length != SIZE_MAX) {
      const std::size_t take = std::min(length - response.body.size(), pending.size());
      response.body.append(pending, 0, take);
      pending.erase(0, take);
      if (response.body.size() >= update_after) {
        update_after = SIZE_MAX;
        if (auto updated = session.update_keys(true); !updated)
          return std::unexpected(updated.error());
      }
      if (response.body.size() == length) return response;
    }
    auto data = session.read(buffer);
    if (!data) return std::unexpected(data.error());
    if (data->empty()) return fail(Errc::closed, "response", "the server closed early");
    pending.append(reinterpret_cast<const char*>(data->data()), data->size());
  }
}

TEST_F(ServeOverHttps, AClientKeyUpdateMidBodyAndBetweenRequestsIsAnsweredAndTheBytesStayExact) {
  auto serve = start();
  ASSERT_FALSE(serve->url().empty());
  const std::string url = serve->url();
  const auto port = static_cast<std::uint16_t>(
      std::stoul(url.substr(url.rfind(':') + 1, url.size() - url.rfind(':') - 2)));
  auto session = secure::Session::connect({"127.0.0.1", port}, {.ca_file = pki_.ca_cert});
  ASSERT_TRUE(session) << session.error().message();
  ASSERT_EQ(session->path(), secure::ReadPath::record_layer) << session->describe();
  std::string pending;
  const std::string requests[] = {"/file.bin", "/sub/inner.txt", "/file.bin"};
  const std::string expected[] = {body_, test::generated_bytes(70000, 3), body_};
  // Mid-body while the server's records are in flight, right at the start of one, and between
  // two requests (the client's own keys change before its next request).
  const std::size_t update_after[] = {kMiB + 17, 0, SIZE_MAX};
  for (std::size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(requests[i]);
    const std::string request = "GET " + requests[i] + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
    ASSERT_TRUE(session->write(std::as_bytes(std::span(request.data(), request.size()))));
    auto response = read_response(*session, pending, update_after[i]);
    ASSERT_TRUE(response) << response.error().message();
    EXPECT_EQ(response->head.rfind("HTTP/1.1 200", 0), 0u) << response->head;
    EXPECT_TRUE(response->body == expected[i]) << "the body differs";
    if (i == 1) {
      ASSERT_TRUE(session->update_keys(false));
    }
  }
  EXPECT_EQ(session->key_updates_sent(), 3u);
  EXPECT_EQ(session->key_updates_received(), 2u)
      << "the server answers each update it was asked for";
  ASSERT_TRUE(session->close());
  EXPECT_EQ(serve->stop(), 0);
}

TEST_F(ServeOverHttps, ATwoGibibyteBodyReachesCurlIntactPastTwoToTheSeventeenRecords) {
  // Sparse but not empty: a random block every 64 MiB, so a record out of place shows.
  const std::uint64_t size = (std::uint64_t{2} << 30) + 4097;
  const std::string path = dir_ / "www/big.bin";
  {
    std::ofstream big(path, std::ios::binary);
    for (std::uint64_t at = 0; at < size; at += 64 * kMiB) {
      big.seekp(static_cast<std::streamoff>(at));
      big << test::generated_bytes(4096, at);
    }
  }
  std::filesystem::resize_file(path, size);
  // openssl's SHA-256 (SHA-NI where the CPU has it) costs a fifth of coreutils' sha256sum.
  auto expected = test::run_program({"openssl", "dgst", "-sha256", "-r", path});
  ASSERT_EQ(expected.exit_code, 0) << expected.out;
  auto serve = start();
  auto run =
      test::run_program({"sh", "-c",
                         "curl -sS --cacert \"$1\" --tls13-ciphers TLS_AES_128_GCM_SHA256 \"$2\" | "
                         "openssl dgst -sha256 -r",
                         "sh", pki_.ca_cert, serve->url() + "big.bin"});
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_EQ(run.out.substr(0, 64), expected.out.substr(0, 64));
  auto ledger = serve->ledger();
  ASSERT_TRUE(ledger) << ledger.error().message();
  EXPECT_EQ(ledger->bytes, size);
}

}  // namespace
}  // namespace zc::http
