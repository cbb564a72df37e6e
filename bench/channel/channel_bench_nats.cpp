// bench/channel/channel_bench_nats.cpp: plain NATS subscribers against one import and channel
// subscribers, on the receiving side of a two-node cluster across a veth link.
#include "bench/channel/channel_bench_nats.hpp"

#include <nats/nats.h>
#include <sys/mman.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <new>
#include <optional>
#include <thread>

#include "bench/support/cpu_accounting.hpp"
#include "bench/support/data.hpp"
#include "bench/support/nats_server.hpp"
#include "bench/support/netns.hpp"
#include "bench/support/process.hpp"
#include "bench/support/table.hpp"
#include "bench/support/veth_pair.hpp"
#include "zcopy/channel/subscriber.hpp"
#include "zcopy/core/units.hpp"

namespace zc::bench {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t kMaxSubscribers = 16;
// The receiving namespace is ours alone: fixed ports cannot collide there.
constexpr std::uint16_t kReceivingPort = 4222;
constexpr std::uint16_t kReceivingRoute = 6222;
constexpr char kSubject[] = "bench.fanout";

// What the processes of one measurement share: a stop flag and the bytes each subscriber read.
struct Shared {
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> received[kMaxSubscribers]{};
};

// An anonymous shared mapping made before the children are forked.
class SharedBlock {
 public:
  SharedBlock() {
    void* at =
        ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (at != MAP_FAILED) shared_ = new (at) Shared();
  }
  ~SharedBlock() {
    if (shared_ == nullptr) return;
    shared_->~Shared();
    ::munmap(shared_, sizeof(Shared));
  }
  SharedBlock(const SharedBlock&) = delete;
  SharedBlock& operator=(const SharedBlock&) = delete;
  Shared* get() const noexcept { return shared_; }

 private:
  Shared* shared_ = nullptr;
};

std::atomic<std::uint64_t> g_sink{0};

// Reads every byte (sums its words), as a subscriber that uses the payload would.
void read_every_byte(const void* data, std::size_t size) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  std::uint64_t sum = 0;
  std::size_t at = 0;
  for (; at + 8 <= size; at += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, bytes + at, 8);
    sum += word;
  }
  for (; at < size; ++at) sum += bytes[at];
  g_sink.fetch_add(sum, std::memory_order_relaxed);
}

// The two machines: a nats-server here (sending) and one in the namespace (receiving), routed
// to each other across the veth link.
struct Machines {
  VethNamespace veth{"nb", 206};
  TempDir dir{"zcopy-nats-bench"};
  NatsServer sending;
  NatsServer receiving;

  std::string sending_url() const { return sending.url(); }
  std::string receiving_url() const { return receiving.url(); }
  std::string netns_path() const { return "/run/netns/" + veth.name(); }
};

Result<void> start_machines(Machines& m, std::uint64_t max_payload) {
  if (!have_program("nats-server")) {
    return fail(Errc::capability_missing, "nats bench", "needs nats-server");
  }
  if (!m.veth.ok() || m.dir.path().empty()) {
    return fail(Errc::capability_missing, "nats bench",
                "needs a network namespace and a veth pair (root and iproute2)");
  }
  const std::uint16_t sending_route = free_port(m.veth.outer_ip());
  auto sending = start_nats_server(
      {.dir = m.dir.path(),
       .name = "sending",
       .host = m.veth.outer_ip(),
       .max_payload = max_payload,
       .cluster = "zcbench",
       .cluster_port = sending_route,
       .routes = {"nats-route://" + m.veth.inner_ip() + ":" + std::to_string(kReceivingRoute)}});
  if (!sending) return std::unexpected(sending.error());
  m.sending = std::move(*sending);
  auto receiving = start_nats_server(
      {.dir = m.dir.path(),
       .name = "receiving",
       .host = m.veth.inner_ip(),
       .port = kReceivingPort,
       .max_payload = max_payload,
       .cluster = "zcbench",
       .cluster_port = kReceivingRoute,
       .routes = {"nats-route://" + m.veth.outer_ip() + ":" + std::to_string(sending_route)},
       .exec_prefix = m.veth.exec({})});
  if (!receiving) return std::unexpected(receiving.error());
  m.receiving = std::move(*receiving);
  for (int waited = 0; waited < 500; ++waited) {
    if (read_text(m.receiving.log()).find("Route connection created") != std::string::npos) {
      return {};
    }
    std::this_thread::sleep_for(20ms);
  }
  return fail(Errc::system, "nats bench", "the two servers did not route to each other");
}

// The sending machine's publisher: `size`-byte messages as fast as the link takes them.
int publish_until_stopped(const std::string& url, std::uint64_t size, const Shared& shared) {
  natsConnection* nc = nullptr;
  if (natsConnection_ConnectTo(&nc, url.c_str()) != NATS_OK) return 1;
  std::vector<char> payload(size, 'z');
  while (!shared.stop.load(std::memory_order_relaxed)) {
    if (natsConnection_Publish(nc, kSubject, payload.data(), static_cast<int>(size)) != NATS_OK) {
      std::this_thread::sleep_for(10ms);  // reconnecting: try again
    }
  }
  natsConnection_Destroy(nc);
  return 0;
}

// A plain NATS subscriber on the receiving machine.
int nats_subscriber(const std::string& netns, const std::string& url, Shared& shared,
                    std::size_t slot) {
  ThreadInNamespace inside(netns);
  if (!inside.ok()) return 77;
  natsConnection* nc = nullptr;
  natsSubscription* sub = nullptr;
  if (natsConnection_ConnectTo(&nc, url.c_str()) != NATS_OK) return 1;
  if (natsConnection_SubscribeSync(&sub, nc, kSubject) != NATS_OK) return 1;
  while (!shared.stop.load(std::memory_order_relaxed)) {
    natsMsg* msg = nullptr;
    if (natsSubscription_NextMsg(&msg, sub, 100) != NATS_OK) continue;
    const auto length = static_cast<std::size_t>(std::max(natsMsg_GetDataLength(msg), 0));
    read_every_byte(natsMsg_GetData(msg), length);
    shared.received[slot].fetch_add(length, std::memory_order_relaxed);
    natsMsg_Destroy(msg);
  }
  natsSubscription_Destroy(sub);
  natsConnection_Destroy(nc);
  return 0;
}

// A channel subscriber of the import, on the receiving machine with it (a channel's subscribers
// reach its publisher through a socket of the network namespace).
int channel_subscriber(const std::string& netns, const std::string& channel, Shared& shared,
                       std::size_t slot) {
  ThreadInNamespace inside(netns);
  if (!inside.ok()) return 77;
  auto subscriber = Subscriber::connect(channel, 10s);
  if (!subscriber) return 1;
  while (!shared.stop.load(std::memory_order_relaxed)) {
    auto sample = subscriber->receive(100ms);
    if (!sample) {
      if (sample.error().code() == Errc::timeout) continue;
      return 1;
    }
    const auto bytes = sample->bytes();
    read_every_byte(bytes.data(), bytes.size());
    shared.received[slot].fetch_add(bytes.size(), std::memory_order_relaxed);
  }
  return 0;
}

std::uint64_t total_received(const Shared& shared, std::size_t subscribers) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < subscribers; ++i) sum += shared.received[i].load();
  return sum;
}

double cpu_of(const std::vector<pid_t>& pids) {
  double sum = 0;
  for (const pid_t pid : pids) sum += process_tree_cpu(pid).total();
  return sum;
}

}  // namespace

Result<NatsFanOutFigures> measure_nats_fan_out(const std::string& method, std::uint64_t size,
                                               std::size_t subscribers, const BenchTiming& timing) {
  if (subscribers == 0 || subscribers > kMaxSubscribers) {
    return fail(Errc::invalid_argument, "nats bench",
                "1 to " + std::to_string(kMaxSubscribers) + " subscribers");
  }
  Machines machines;
  if (auto started = start_machines(machines, std::max<std::uint64_t>(size + 4096, kMiB));
      !started) {
    return std::unexpected(started.error());
  }
  SharedBlock block;
  Shared* shared = block.get();
  if (shared == nullptr) return fail(Errc::system, "nats bench", "no shared mapping");

  std::vector<Process> clients;
  std::optional<Process> import;
  const std::string log = machines.dir.path() + "/import.log";
  if (method == "nats") {
    for (std::size_t i = 0; i < subscribers; ++i) {
      auto child = Process::fork([&, i] {
        return nats_subscriber(machines.netns_path(), machines.receiving_url(), *shared, i);
      });
      if (!child) return std::unexpected(child.error());
      clients.push_back(std::move(*child));
    }
  } else if (method == "bridge") {
    const std::string channel = "zcnb" + std::to_string(::getpid());
    auto spawned = Process::spawn(
        machines.veth.exec({self_executable(), "channel", "import", kSubject, "--nats",
                            machines.receiving_url(), "--channel", channel, "--chunk-size",
                            std::to_string(size), "--subscribers", std::to_string(subscribers)}),
        {.out = Output::file, .err = Output::file, .file = log});
    if (!spawned) return std::unexpected(spawned.error());
    import = std::move(*spawned);
    for (std::size_t i = 0; i < subscribers; ++i) {
      auto child = Process::fork([&, i, channel] {
        return channel_subscriber(machines.netns_path(), channel, *shared, i);
      });
      if (!child) return std::unexpected(child.error());
      clients.push_back(std::move(*child));
    }
  } else {
    return fail(Errc::invalid_argument, "nats bench", "no method '" + method + "'");
  }
  auto sender =
      Process::fork([&] { return publish_until_stopped(machines.sending_url(), size, *shared); });
  if (!sender) return std::unexpected(sender.error());

  // Every subscriber has to be reached before anything is measured.
  auto all_reached = [&] {
    for (std::size_t i = 0; i < subscribers; ++i) {
      if (shared->received[i].load() == 0) return false;
    }
    return true;
  };
  for (int waited = 0; !all_reached() && waited < 1000; ++waited) {
    std::this_thread::sleep_for(10ms);
  }
  if (!all_reached()) {
    shared->stop.store(true);
    std::string ended;
    for (Process& client : clients) {
      if (auto exit = client.wait_for(1s)) ended += " " + std::to_string(exit->code);
    }
    if (auto exit = sender->wait_for(1s)) ended += ", the publisher " + std::to_string(exit->code);
    return fail(
        Errc::system, "nats " + method,
        "no message reached every subscriber within 10 s (exits:" + ended + ") " + read_text(log));
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(timing.warmup_s));
  std::vector<pid_t> client_pids;
  for (const Process& client : clients) client_pids.push_back(client.pid());
  if (import) client_pids.push_back(import->pid());
  const std::vector<pid_t> server_pid = {machines.receiving.pid()};

  const std::uint64_t bytes_before = total_received(*shared, subscribers);
  const double server_before = cpu_of(server_pid);
  const double clients_before = cpu_of(client_pids);
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(timing.measure_s));
  const std::uint64_t bytes_after = total_received(*shared, subscribers);
  const double server_after = cpu_of(server_pid);
  const double clients_after = cpu_of(client_pids);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  shared->stop.store(true);
  (void)sender->wait_for(5s);
  for (Process& client : clients) (void)client.wait_for(5s);
  if (import) import->stop(SIGTERM);
  return NatsFanOutFigures{.bytes = bytes_after - bytes_before,
                           .seconds = seconds,
                           .server_cpu_s = server_after - server_before,
                           .client_cpu_s = clients_after - clients_before};
}

Result<Report> run_nats_bench(const NatsBenchConfig& config,
                              const std::function<void(const JsonRecord&)>& measured) {
  Report out;
  const BenchTiming timing{.warmup_s = std::min(0.25, config.seconds / 2),
                           .measure_s = config.seconds};
  Table table(
      {"size", "subscribers", "method", "delivered", "CPU s/GB", "rate vs nats", "CPU/GB vs nats"});
  for (const std::uint64_t size : config.sizes) {
    for (const std::size_t subscribers : config.subscribers) {
      double nats_rate = 0;
      double nats_cpu = 0;
      for (const std::string method : {"nats", "bridge"}) {
        auto f = measure_nats_fan_out(method, size, subscribers, timing);
        if (!f) {
          return std::unexpected(std::move(f.error()).with_context("nats bench " + method));
        }
        const double rate = f->seconds > 0 ? static_cast<double>(f->bytes) / f->seconds : 0;
        const double gb = static_cast<double>(f->bytes) / 1e9;
        const double cpu_per_gb = gb > 0 ? (f->server_cpu_s + f->client_cpu_s) / gb : 0;
        if (method == "nats") {
          nats_rate = rate;
          nats_cpu = cpu_per_gb;
        }
        JsonRecord r = bench_record("channel-nats", method, size);
        r.add("subscribers", static_cast<std::uint64_t>(subscribers))
            .add("bytes_per_s", rate)
            .add("cpu_s_per_gb", cpu_per_gb)
            .add("server_cpu_s", f->server_cpu_s)
            .add("client_cpu_s", f->client_cpu_s)
            .add("bytes", f->bytes)
            .add("seconds", f->seconds);
        out.records.push_back(r);
        if (measured) measured(r);
        const bool bridge = method == "bridge";
        table.add_row({format_bytes(size), std::to_string(subscribers), method, format_rate(rate),
                       fixed(cpu_per_gb, 2),
                       bridge && nats_rate > 0 ? fixed(rate / nats_rate, 2) + "x" : "-",
                       bridge && nats_cpu > 0 ? fixed(cpu_per_gb / nats_cpu, 2) + "x" : "-"});
      }
    }
  }
  out.text =
      "NATS fan-out on the receiving machine (N NATS subscribers vs one import + N channel "
      "subscribers; CPU: receiving server and clients)\n" +
      table.str();
  return out;
}

}  // namespace zc::bench
