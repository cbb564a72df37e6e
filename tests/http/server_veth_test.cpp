// The server inside a network namespace of its own, fetched over a veth pair by curl from this
// namespace: a real link with its own addresses, created and removed by the test.
#include <gtest/gtest.h>
#include <unistd.h>

#include "http_test_support.hpp"
#include "serve_process.hpp"
#include "support/capability_gate.hpp"
#include "support/sanitizer.hpp"
#include "veth_namespace.hpp"

namespace zc::test {
namespace {

TEST(ServerVeth, CurlFetchesAcrossAVethPairIntoAnotherNamespaceByteExact) {
  ZC_REQUIRE_CAPABILITY(zc::Capability::cap_sys_admin);
  ZC_REQUIRE_CAPABILITY(zc::Capability::cap_net_admin);
  ZC_REQUIRE_PROGRAM("ip");
  ZC_REQUIRE_PROGRAM("curl");
  TempDir root;
  TempDir work;
  const std::string bytes = generated_bytes(kSanitized ? 4 << 20 : 32 << 20, 5);
  ASSERT_TRUE(write_file(root / "genome.bin", bytes));
  VethNamespace veth;
  ASSERT_TRUE(veth.ok());
  for (const char* method : {"sendfile", "splice"}) {
    SCOPED_TRACE(method);
    ServeProcess serve({"ip", "netns", "exec", veth.name(), tool_path(), "serve", root.path(),
                        "--bind", veth.inner_ip(), "--port", "0", "--method", method});
    ASSERT_EQ(serve.url().rfind("http://" + veth.inner_ip() + ":", 0), 0U) << serve.first_line();
    const ProgramResult curl = run_program(
        {"curl", "-sS", "--max-time", "30", "-o", work / "got", serve.url() + "genome.bin"});
    ASSERT_EQ(curl.exit_code, 0) << curl.out;
    EXPECT_EQ(checksum(read_file(work / "got")), checksum(bytes));
    EXPECT_EQ(serve.stop(), 0);
    // The receiver's copy is the receiver's: the server's ledger has none (transfer_ledger.hpp).
    EXPECT_NE(serve.stderr_text().find("zero-copy, copied 0 B in user space and 0 B in the kernel"),
              std::string::npos)
        << serve.stderr_text();
  }
}

}  // namespace
}  // namespace zc::test
