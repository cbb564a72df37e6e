// zcopy get over https against real servers: nginx with TLS 1.3 and with TLS 1.2 only, holding a
// certificate from a test CA (bench/support/tls_pki.hpp); byte-exact bodies, the path the ledger
// names, --parallel-ranges, resume after SIGKILL, a redirect from http to https, the certificate
// errors, -k, one file from an http and an https source at once, and a python ssl server that cuts
// the body short without close_notify.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "bench/support/tls_pki.hpp"
#include "client_test_servers.hpp"
#include "get_json.hpp"
#include "get_tool_process.hpp"
#include "secure/tls_peer_support.hpp"
#include "support/capability_gate.hpp"
#include "support/sanitizer.hpp"
#include "support/shell_command.hpp"
#include "support/small_disk.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/http/client/download.hpp"
#include "zcopy/http/client/part_record.hpp"

namespace zc::http {
namespace {

using test::TempDir;
using test::ToolProcess;

// Several MiB per range, so --parallel-ranges 4 splits it; not a multiple of a record.
const std::size_t kFileSize = (test::kSanitized ? 5 : 20) * kMiB + 4097;

// A python ssl server with answers nginx does not give: /cut announces 100000 bytes, sends 50000
// and closes the TCP connection under TLS (no close_notify, as a cut connection or an attacker
// would); /chunked sends 300000 bytes in chunks; /eof sends 300000 bytes without a length and
// ends with close_notify; /eof-cut does the same but closes without it.
constexpr const char* kPythonTlsServer = R"(import socket, ssl, sys
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[1], sys.argv[2])
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", int(sys.argv[3])))
listener.listen(8)
body = bytes((i * 7 + i // 251) % 256 for i in range(300000))
while True:
    connection, _ = listener.accept()
    try:
        tls = context.wrap_socket(connection, server_side=True)
        request = b""
        while b"\r\n\r\n" not in request:
            request += tls.recv(4096)
        path = request.split(b" ")[1]
        if path == b"/cut":
            tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 50000)
            tls.shutdown(socket.SHUT_RDWR)
        elif path == b"/chunked":
            tls.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            for at in range(0, len(body), 70001):
                piece = body[at:at + 70001]
                tls.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
            tls.sendall(b"0\r\n\r\n")
        else:
            tls.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body)
            if path == b"/eof":
                tls.unwrap()
            else:
                tls.shutdown(socket.SHUT_RDWR)
        tls.close()
    except Exception:
        connection.close()
)";

class GetOverHttps : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!bench::have_program("openssl")) ZC_SKIP_BECAUSE("needs the openssl program");
    if (!bench::have_program("nginx")) ZC_SKIP_BECAUSE("needs nginx");
    ZC_REQUIRE_ROOT("to run nginx");
    std::filesystem::create_directories(dir_ / "pki");
    auto pki = bench::make_tls_pki(dir_ / "pki");
    ASSERT_TRUE(pki) << pki.error().message();
    pki_ = *pki;
    std::filesystem::create_directories(dir_ / "www");
    test::write_random_file(dir_ / "www/data.bin", kFileSize, 18);
  }

  // nginx over TLS with `protocols` ("TLSv1.3"), on `host`, with the certificate `cert`.
  test::ServerProcess nginx(const std::string& protocols, const std::string& cert = {},
                            const std::string& host = "127.0.0.1") {
    const std::string site = dir_ / ("nginx-" + std::to_string(++servers_));
    std::filesystem::create_directories(site);
    auto server = bench::start_nginx(
        {.dir = site,
         .root = dir_ / "www",
         .host = host,
         .server_extra = "    ssl_certificate " + (cert.empty() ? pki_.server_cert : cert) +
                         ";\n    ssl_certificate_key " + pki_.server_key + ";\n    ssl_protocols " +
                         protocols + ";\n    location /slow/ { alias " + dir_ / "www/" +
                         "; limit_rate 512k; }\n    location /slower/ { alias " + dir_ / "www/" +
                         "; limit_rate 192k; }\n",
         .listen_extra = "ssl"});
    EXPECT_TRUE(server) << server.error().message();
    return server ? std::move(*server) : test::ServerProcess{};
  }

  std::string https_url(const test::ServerProcess& server, const std::string& path,
                        const std::string& host = "127.0.0.1") const {
    return "https://" + host + ":" + std::to_string(server.port()) + path;
  }

  DownloadOptions options(const std::string& name) const {
    DownloadOptions o;
    o.output = dir_ / name;
    o.timeout = std::chrono::seconds(10);
    o.tls.ca_file = pki_.ca_cert;
    return o;
  }

  std::string source() const { return test::read_file(dir_ / "www/data.bin"); }

  test::CommandResult run_get(const std::string& args) const {
    return test::run_command(test::zcopy_tool() + " get " + args + " 2>&1");
  }

  TempDir dir_;
  bench::TlsPki pki_;
  int servers_ = 0;
};

TEST_F(GetOverHttps, Tls13BodyIsByteExactAndItsRecordsAreOpenedInPlace) {
  auto server = nginx("TLSv1.3");
  ASSERT_TRUE(server.running());
  auto r = download(*parse_url(https_url(server, "/data.bin")), options("out.bin"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(test::read_file(dir_ / "out.bin") == source());
  EXPECT_FALSE(test::exists(dir_ / "out.bin.part"));
  EXPECT_EQ(r->file_size, kFileSize);
  EXPECT_EQ(r->ledger.method, "tls-in-place");
  EXPECT_EQ(r->ledger.bytes, kFileSize);
  EXPECT_EQ(r->ledger.bytes_copied_user, 0u) << "records are opened where they landed";
  EXPECT_NE(r->note.find("TLSv1.3"), std::string::npos) << r->note;
  EXPECT_NE(r->note.find("opened in place"), std::string::npos) << r->note;
}

TEST_F(GetOverHttps, AnAlteredRecordEndsTheDownloadWithEveryRecordBeforeItInThePart) {
  // No session tickets: the proxy then counts the response's records from the first.
  const std::string site = dir_ / "nginx-no-tickets";
  std::filesystem::create_directories(site);
  auto server =
      bench::start_nginx({.dir = site,
                          .root = dir_ / "www",
                          .server_extra = "    ssl_certificate " + pki_.server_cert +
                                          ";\n    ssl_certificate_key " + pki_.server_key +
                                          ";\n    ssl_protocols TLSv1.3;\n"
                                          "    ssl_session_tickets off;\n",
                          .listen_extra = "ssl"});
  ASSERT_TRUE(server) << server.error().message();
  // Far enough in that many records were read ahead and gathered before the altered one.
  test::TlsProxy proxy(server->port(), test::Attack::flip_ciphertext_bit, 100);
  auto r = download(*parse_url("https://127.0.0.1:" + std::to_string(proxy.port()) + "/data.bin"),
                    options("out.bin"));
  ASSERT_TRUE(proxy.attacked());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("authentication tag"), std::string::npos)
      << r.error().message();
  EXPECT_FALSE(test::exists(dir_ / "out.bin"));
  const std::string part = test::read_file(dir_ / "out.bin.part");
  // The response head (a few hundred bytes) came first in the verified content; every body byte
  // after it is in the .part, and not one byte of the altered record.
  ASSERT_LT(part.size(), proxy.content_before_attack());
  EXPECT_LT(proxy.content_before_attack() - part.size(), 1024u)
      << "verified records were lost: " << part.size() << " of " << proxy.content_before_attack();
  EXPECT_TRUE(part == source().substr(0, part.size()));
}

TEST_F(GetOverHttps, ASlowServersBytesAreTakenAsTheyComeAndNotHeldBackForABatch) {
  // Over a read batch (1 MiB) and a record, so the reader asks the socket to wake it per batch;
  // at 192 KB/s a batch takes five seconds to gather, while every one-second window of the stall
  // rule brings some 190 KB: held back for a batch, the body would look stalled.
  test::write_random_file(dir_ / "www/slow.bin", kMiB + 64 * kKiB, 19);
  auto server = nginx("TLSv1.3");
  ASSERT_TRUE(server.running());
  DownloadOptions o = options("slow.bin");
  o.timeout = std::chrono::seconds(1);
  auto r = download(*parse_url(https_url(server, "/slower/slow.bin")), o);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(test::read_file(dir_ / "slow.bin") == test::read_file(dir_ / "www/slow.bin"));
  EXPECT_EQ(r->ledger.method, "tls-in-place");
}

TEST_F(GetOverHttps, AFullDiskIsENOSPCNamingThePartWithNoFinalFileOnTmpfsAndExt4) {
  ZC_REQUIRE_CAPABILITY(Capability::cap_sys_admin);
  ZC_REQUIRE_PROGRAM("mkfs.ext4");
  auto server = nginx("TLSv1.3");
  ASSERT_TRUE(server.running());
  test::SmallTmpfs tmpfs(dir_ / "tmpfs", "1m");
  ASSERT_TRUE(tmpfs.mounted()) << "mount(tmpfs): " << std::strerror(errno);
  // ext4 allocates the body's blocks ahead (fallocate), which a full disk cuts short.
  test::SmallExt4 ext4(dir_ / "ext4", dir_ / "ext4.img", 4);
  if (!ext4.mounted()) ZC_SKIP_BECAUSE("no loop-mounted ext4: " + ext4.why_not());
  for (const char* disk : {"tmpfs", "ext4"}) {
    SCOPED_TRACE(disk);
    const std::string output = dir_ / (std::string(disk) + "/out.bin");
    DownloadOptions o = options("unused");
    o.output = output;
    auto r = download(*parse_url(https_url(server, "/data.bin")), o);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().sys_errno(), ENOSPC) << r.error().message();
    EXPECT_NE(r.error().message().find("out.bin.part"), std::string::npos) << r.error().message();
    EXPECT_FALSE(test::exists(output));
    // What landed is the body's start: verified records only.
    const std::string part = test::read_file(part_path(output));
    EXPECT_GT(part.size(), 0u);
    EXPECT_TRUE(part == source().substr(0, part.size()));
  }
}

TEST_F(GetOverHttps, Tls12OnlyBodyIsByteExactThroughSslReadWithOneMoreCopy) {
  auto server = nginx("TLSv1.2");
  ASSERT_TRUE(server.running());
  auto r = download(*parse_url(https_url(server, "/data.bin", "localhost")), options("out.bin"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(test::read_file(dir_ / "out.bin") == source());
  EXPECT_EQ(r->ledger.method, "tls-ssl_read");
  EXPECT_GE(r->ledger.bytes_copied_user, kFileSize) << "SSL_read copies out of its buffer";
  EXPECT_NE(r->note.find("TLSv1.2"), std::string::npos) << r->note;
}

TEST_F(GetOverHttps, ToolSplitsOneFileOverParallelRangesAndFetchesSeveralWithJobs) {
  ZC_REQUIRE_TOOL();
  auto server = nginx("TLSv1.3");
  ASSERT_TRUE(server.running());
  auto ranged = run_get("--cacert " + pki_.ca_cert + " --parallel-ranges 4 --json -o " +
                        dir_ / "ranged.bin" + " " + https_url(server, "/data.bin"));
  EXPECT_EQ(ranged.exit_code, 0) << ranged.output;
  EXPECT_NE(ranged.output.find("tls-in-place x4"), std::string::npos) << ranged.output;
  EXPECT_TRUE(test::read_file(dir_ / "ranged.bin") == source());

  std::filesystem::copy_file(dir_ / "www/data.bin", dir_ / "www/second.bin");
  std::filesystem::create_directories(dir_ / "into");
  auto jobs =
      run_get("--cacert " + pki_.ca_cert + " -j 2 -o " + dir_ / "into" + " " +
              https_url(server, "/data.bin") + " " + https_url(server, "/second.bin", "localhost"));
  EXPECT_EQ(jobs.exit_code, 0) << jobs.output;
  EXPECT_TRUE(test::read_file(dir_ / "into/data.bin") == source());
  EXPECT_TRUE(test::read_file(dir_ / "into/second.bin") == source());
}

TEST_F(GetOverHttps, KilledOrInterruptedDownloadContinuesOverHttpsByteExact) {
  ZC_REQUIRE_TOOL();
  auto server = nginx("TLSv1.3");
  ASSERT_TRUE(server.running());
  for (const char* ranges : {"1", "4"}) {
    for (const int signal : {SIGKILL, SIGINT}) {
      SCOPED_TRACE(std::string("ranges ") + ranges + ", signal " + std::to_string(signal));
      const std::string output = dir_ / ("out-" + std::string(ranges) + ".bin");
      ToolProcess get({"get", "--cacert", pki_.ca_cert, "--parallel-ranges", ranges, "-o", output,
                       https_url(server, "/slow/data.bin")},
                      dir_.path());
      const bool started = test::eventually([&] {
        auto record = parse_part_record(test::read_file(record_path(output)));
        return record && record->bytes_done() > 0;
      });
      ASSERT_TRUE(started) << "no progress was recorded: " << get.stderr_text();
      get.signal(signal);
      const int code = get.wait(std::chrono::seconds(20));
      if (signal == SIGKILL) {
        EXPECT_EQ(code, 128 + SIGKILL);
      } else {
        EXPECT_EQ(code, 1) << get.stderr_text();
        EXPECT_NE(get.stderr_text().find("interrupted by SIGINT"), std::string::npos)
            << get.stderr_text();
      }
      ASSERT_FALSE(test::exists(output)) << "a stopped download must not look complete";
      auto record = parse_part_record(test::read_file(record_path(output)));
      ASSERT_TRUE(record);
      ASSERT_GT(record->bytes_done(), 0u);
      ASSERT_LT(record->bytes_done(), kFileSize);
      auto again = run_get("--continue --json --cacert " + pki_.ca_cert + " --parallel-ranges " +
                           ranges + " -o " + output + " " + https_url(server, "/data.bin"));
      EXPECT_EQ(again.exit_code, 0) << again.output;
      EXPECT_NE(again.output.find("\"resumed_from\":" + std::to_string(record->bytes_done())),
                std::string::npos)
          << again.output;
      EXPECT_TRUE(test::read_file(output) == source());
      EXPECT_FALSE(test::exists(part_path(output)));
      EXPECT_FALSE(test::exists(record_path(output)));
      std::filesystem::remove(output);
    }
  }
}

TEST_F(GetOverHttps, RedirectFromHttpToHttpsIsFollowedWithTheNameChecked) {
  ZC_REQUIRE_TOOL();
  auto secure = nginx("TLSv1.3");
  ASSERT_TRUE(secure.running());
  std::filesystem::create_directories(dir_ / "plain");
  auto plain = test::start_nginx(
      dir_ / "plain", dir_ / "www",
      "location = /secure { return 302 " + https_url(secure, "/data.bin", "localhost") + "; }\n");
  ASSERT_TRUE(plain.running());
  auto r = run_get("--cacert " + pki_.ca_cert + " --json -o " + dir_ / "out.bin" + " " +
                   plain.url("/secure"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("https://localhost:"), std::string::npos) << r.output;
  EXPECT_TRUE(test::read_file(dir_ / "out.bin") == source());
}

TEST_F(GetOverHttps, OneFileFromAnHttpAndAnHttpsSourceAtOnceIsByteExact) {
  ZC_REQUIRE_TOOL();
  auto secure = nginx("TLSv1.3");
  ASSERT_TRUE(secure.running());
  std::filesystem::create_directories(dir_ / "plain");
  auto plain = test::start_nginx(dir_ / "plain", dir_ / "www");
  ASSERT_TRUE(plain.running());
  const std::vector<std::string> urls = {plain.url("/data.bin"), https_url(secure, "/data.bin")};
  auto r = run_get("--cacert " + pki_.ca_cert + " --json -o " + dir_ / "out.bin" + " " + urls[0] +
                   " " + urls[1]);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(test::read_file(dir_ / "out.bin") == source());
  // Each source's first connection starts on its own piece: both deliver.
  std::uint64_t total = 0;
  for (const std::string& url : urls) {
    const auto bytes = test::source_bytes_in(r.output, url);
    ASSERT_TRUE(bytes) << url << "\n" << r.output;
    EXPECT_GT(*bytes, 0u) << url << "\n" << r.output;
    total += *bytes;
  }
  EXPECT_EQ(total, kFileSize);
}

TEST_F(GetOverHttps, WrongCaWrongNameAndExpiredCertificateFailWithoutAnyOutputFile) {
  ZC_REQUIRE_TOOL();
  auto good = nginx("TLSv1.3");
  auto other_address = nginx("TLSv1.3", {}, "127.0.0.2");
  auto expired = nginx("TLSv1.3", pki_.expired_cert);
  ASSERT_TRUE(good.running() && other_address.running() && expired.running());
  struct Case {
    std::string ca;
    std::string url;
    std::string says;
  };
  const std::vector<Case> cases = {
      {pki_.other_ca_cert, https_url(good, "/data.bin"), "unable to get local issuer certificate"},
      {pki_.ca_cert, https_url(other_address, "/data.bin", "127.0.0.2"), "mismatch"},
      {pki_.ca_cert, https_url(expired, "/data.bin"), "certificate has expired"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.url);
    const std::string output = dir_ / "out.bin";
    auto r = run_get("--cacert " + c.ca + " -o " + output + " " + c.url);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find(c.says), std::string::npos) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    EXPECT_FALSE(test::exists(output));
    EXPECT_FALSE(test::exists(part_path(output)));
  }
  // Without --cacert the system store knows nothing of the test CA.
  auto unknown = run_get("-o " + dir_ / "out.bin" + " " + https_url(good, "/data.bin"));
  EXPECT_EQ(unknown.exit_code, 1) << unknown.output;
  EXPECT_NE(unknown.output.find("certificate verify failed"), std::string::npos) << unknown.output;
  EXPECT_FALSE(test::exists(dir_ / "out.bin"));
}

TEST_F(GetOverHttps, InsecureSkipsTheChecksAndSaysSoOnce) {
  ZC_REQUIRE_TOOL();
  auto expired = nginx("TLSv1.3", pki_.expired_cert, "127.0.0.2");
  ASSERT_TRUE(expired.running());
  auto r =
      run_get("-k -o " + dir_ / "out.bin" + " " + https_url(expired, "/data.bin", "127.0.0.2"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("warning: --insecure"), std::string::npos) << r.output;
  std::size_t warnings = 0;
  for (std::size_t at = r.output.find("warning"); at != std::string::npos;
       at = r.output.find("warning", at + 1))
    ++warnings;
  EXPECT_EQ(warnings, 1u) << r.output;
  EXPECT_TRUE(test::read_file(dir_ / "out.bin") == source());
}

class GetFromPythonTls : public GetOverHttps {
 protected:
  void SetUp() override {
    if (!bench::have_program("openssl")) ZC_SKIP_BECAUSE("needs the openssl program");
    if (!bench::have_program("python3")) ZC_SKIP_BECAUSE("needs python3");
    std::filesystem::create_directories(dir_ / "pki");
    auto pki = bench::make_tls_pki(dir_ / "pki");
    ASSERT_TRUE(pki) << pki.error().message();
    pki_ = *pki;
    std::ofstream(dir_ / "server.py") << kPythonTlsServer;
    server_ =
        test::start_python(dir_.path(), {dir_ / "server.py", pki_.server_cert, pki_.server_key});
    ASSERT_TRUE(server_.running()) << "see " << dir_ / "python.log";
  }

  static std::string expected_body() {
    std::string body(300000, '\0');
    for (std::size_t i = 0; i < body.size(); ++i)
      body[i] = static_cast<char>((i * 7 + i / 251) % 256);
    return body;
  }

  test::ServerProcess server_;
};

TEST_F(GetFromPythonTls, CloseWithoutCloseNotifyBeforeContentLengthIsATruncatedBody) {
  auto r = download(*parse_url(https_url(server_, "/cut")), options("out.bin"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("truncated body"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("without close_notify"), std::string::npos)
      << r.error().message();
  EXPECT_NE(r.error().message().find("50000 of 100000"), std::string::npos) << r.error().message();
  EXPECT_FALSE(test::exists(dir_ / "out.bin"));
  EXPECT_TRUE(test::exists(dir_ / "out.bin.part")) << "what arrived is kept for --continue";
}

TEST_F(GetFromPythonTls, ChunkedBodyIsDecodedFromTheRecords) {
  auto r = download(*parse_url(https_url(server_, "/chunked")), options("out.bin"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(test::read_file(dir_ / "out.bin") == expected_body());
  EXPECT_EQ(r->file_size, 300000u);
}

TEST_F(GetFromPythonTls, BodyWithoutLengthEndsAtCloseNotifyAndNotAtABareClose) {
  auto r = download(*parse_url(https_url(server_, "/eof")), options("out.bin"));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(test::read_file(dir_ / "out.bin") == expected_body());

  auto cut = download(*parse_url(https_url(server_, "/eof-cut")), options("cut.bin"));
  ASSERT_FALSE(cut) << "a body of unknown length cut without close_notify may be truncated";
  EXPECT_NE(cut.error().message().find("without close_notify"), std::string::npos)
      << cut.error().message();
  EXPECT_FALSE(test::exists(dir_ / "cut.bin"));
}

}  // namespace
}  // namespace zc::http
