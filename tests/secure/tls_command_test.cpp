#include <gtest/gtest.h>

#include "secure/tls_peer_support.hpp"
#include "support/capability_gate.hpp"
#include "support/shell_command.hpp"

namespace zc::test {
namespace {

class TlsCommand : public TlsSiteTest {};

TEST_F(TlsCommand, ConnectSaysRecordsAreOpenedInPlaceAndWhyKtlsIsNotUsed) {
  ZC_REQUIRE_TOOL();
  const bench::TlsPki* pki = &pki_;
  auto server =
      start_s_server({.cert = pki->server_cert, .key = pki->server_key, .www_root = dir_ / "www"});
  ASSERT_TRUE(server) << server.error().message();
  const std::string target = "127.0.0.1:" + std::to_string(server->port);

  auto ok = run_command(zcopy_tool() + " tls connect " + target + " --cacert " + pki->ca_cert);
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("TLSv1.3"), std::string::npos) << ok.output;
  EXPECT_NE(ok.output.find("records opened in place"), std::string::npos) << ok.output;
  EXPECT_NE(ok.output.find("kTLS"), std::string::npos) << ok.output;

  auto untrusted = run_command(zcopy_tool() + " tls connect " + target + " --cacert " +
                               pki->other_ca_cert + " 2>&1");
  EXPECT_EQ(untrusted.exit_code, 1) << untrusted.output;
  EXPECT_NE(untrusted.output.find("certificate verify failed"), std::string::npos)
      << untrusted.output;
  EXPECT_EQ(untrusted.output.find('\n'), untrusted.output.size() - 1) << untrusted.output;

  auto insecure = run_command(zcopy_tool() + " tls connect " + target + " -k 2>&1");
  EXPECT_EQ(insecure.exit_code, 0) << insecure.output;
  EXPECT_NE(insecure.output.find("warning: --insecure"), std::string::npos) << insecure.output;
}

TEST(TlsBenchCommand, PrintsBothFiguresAsJson) {
  ZC_REQUIRE_TOOL();
  auto run = run_command(zcopy_tool() + " tls bench --seconds 0.2 --repeats 1 --json");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("\"method\":\"in-place-open\""), std::string::npos) << run.output;
  if (bench::have_program("openssl")) {
    EXPECT_NE(run.output.find("\"method\":\"openssl-speed\""), std::string::npos) << run.output;
  }
}

}  // namespace
}  // namespace zc::test
