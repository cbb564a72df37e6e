// The server inside a network namespace of its own, fetched over a veth pair by curl from this
// namespace: a real link with its own addresses, created and removed by the test.
#include <gtest/gtest.h>
#include <unistd.h>

#include "http_test_support.hpp"
#include "serve_process.hpp"
#include "support/capability_gate.hpp"
#include "support/sanitizer.hpp"

namespace zc::test {
namespace {

// A namespace and a veth pair named after this process; removed on destruction even if the test
// failed halfway (deleting the namespace deletes the end inside it, and with it the pair).
class VethNamespace {
 public:
  VethNamespace() {
    const int id = static_cast<int>(::getpid() % 100000);
    ns_ = "zcserve" + std::to_string(id);
    outer_ = "zcsa" + std::to_string(id);
    inner_ = "zcsb" + std::to_string(id);
    // A /30 from 10.201.0.0/16 chosen by pid, so parallel runs do not collide.
    const std::string net = "10.201." + std::to_string(id % 250) + ".";
    const int base = (id / 250 % 63) * 4;
    outer_ip_ = net + std::to_string(base + 1);
    inner_ip_ = net + std::to_string(base + 2);
    ok_ = sh("ip netns add " + ns_) &&
          sh("ip link add " + outer_ + " type veth peer name " + inner_) &&
          sh("ip link set " + inner_ + " netns " + ns_) &&
          sh("ip addr add " + outer_ip_ + "/30 dev " + outer_) &&
          sh("ip link set " + outer_ + " up") &&
          sh("ip -n " + ns_ + " addr add " + inner_ip_ + "/30 dev " + inner_) &&
          sh("ip -n " + ns_ + " link set " + inner_ + " up") &&
          sh("ip -n " + ns_ + " link set lo up");
  }
  ~VethNamespace() {
    sh("ip netns del " + ns_ + " 2>/dev/null");
    sh("ip link del " + outer_ + " 2>/dev/null");
  }
  VethNamespace(const VethNamespace&) = delete;
  VethNamespace& operator=(const VethNamespace&) = delete;

  bool ok() const { return ok_; }
  const std::string& name() const { return ns_; }
  const std::string& inner_ip() const { return inner_ip_; }

 private:
  static bool sh(const std::string& command) {
    return run_program({"sh", "-c", command}).exit_code == 0;
  }
  std::string ns_, outer_, inner_, outer_ip_, inner_ip_;
  bool ok_ = false;
};

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
    // Not a loopback peer: the receiver's copy happens in the other namespace, not in our ledger.
    EXPECT_NE(serve.stderr_text().find("zero-copy, copied 0 B in user space and 0 B in the kernel"),
              std::string::npos)
        << serve.stderr_text();
  }
}

}  // namespace
}  // namespace zc::test
