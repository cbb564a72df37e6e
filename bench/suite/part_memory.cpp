// The mem and ring parts: the Google Benchmark programs of those modules, run as they are.
#include "bench/suite/benchmark_program.hpp"
#include "bench/suite/part.hpp"

namespace zc::bench {

// Page-fault jitter of a 64 MiB buffer, one byte written per page: pinned (ours) against fresh
// memory as any allocation gets it (the peer) and fresh memory on transparent huge pages.
Result<PartOutput> run_mem_part(const SuiteConfig& c) {
  auto runs =
      run_google_benchmark(c.programs_dir, "zcopy_mem_bench", c.full ? 5 : 3, c.full ? 0.5 : 0.05);
  if (!runs) return std::unexpected(runs.error());
  PartOutput out;
  struct Variant {
    const char* name;
    const char* method;
    Side side;
  };
  for (const Variant& v :
       {Variant{"BM_FaultJitter/pinned_4k/manual_time", "pinned 4k", Side::ours},
        Variant{"BM_FaultJitter/fresh_4k/manual_time", "fresh 4k", Side::peer},
        Variant{"BM_FaultJitter/fresh_thp/manual_time", "fresh thp", Side::baseline}}) {
    if (runs->values(v.name, "p50_ns").empty()) {
      out.notes.push_back(std::string(v.method) + ": no result");
      continue;
    }
    Measurement m{.module = "mem", .bench = "fault-jitter", .method = v.method, .side = v.side};
    m.size_bytes = 64ULL << 20;
    m.unit_note = "buffer; latency per 4 KiB page touched";
    m.latency_p50_ns = runs->median_of(v.name, "p50_ns");
    m.latency_p99_ns = runs->median_of(v.name, "p99_ns");
    m.latency_max_ns = runs->median_of(v.name, "max_ns");
    m.repetitions = static_cast<unsigned>(runs->values(v.name, "p50_ns").size());
    m.spread = runs->spread_of(v.name, "p99_ns");
    m.note =
        "minor faults per page " + std::to_string(runs->median_of(v.name, "minor_faults_per_page"));
    out.rows.push_back(m);
  }
  return out;
}

// One producer and one consumer thread moving 8-byte elements: SpscRing against
// boost::lockfree::spsc_queue, one at a time and 64 at a time.
Result<PartOutput> run_ring_part(const SuiteConfig& c) {
  auto runs =
      run_google_benchmark(c.programs_dir, "zcopy_ring_bench", c.full ? 5 : 3, c.full ? 0.5 : 0.05);
  if (!runs) return std::unexpected(runs.error());
  PartOutput out;
  struct Variant {
    const char* name;
    const char* bench;
    const char* method;
    Side side;
  };
  for (const Variant& v :
       {Variant{"BM_SpscRing/real_time", "ring-spsc-single", "SpscRing", Side::ours},
        Variant{"BM_BoostSpscQueue/real_time", "ring-spsc-single", "boost-lockfree", Side::peer},
        Variant{"BM_SpscRingBatch/real_time", "ring-spsc-batch64", "SpscRing", Side::ours},
        Variant{"BM_BoostSpscQueueBatch/real_time", "ring-spsc-batch64", "boost-lockfree",
                Side::peer}}) {
    if (runs->values(v.name, "items_per_second").empty()) {
      out.notes.push_back(std::string(v.bench) + " " + v.method + ": no result");
      continue;
    }
    Measurement m{.module = "ring", .bench = v.bench, .method = v.method, .side = v.side};
    m.size_bytes = 8;
    m.unit_note = "element";
    m.ops_per_s = runs->median_of(v.name, "items_per_second");
    m.repetitions = static_cast<unsigned>(runs->values(v.name, "items_per_second").size());
    m.spread = runs->spread_of(v.name, "items_per_second");
    out.rows.push_back(m);
  }
  out.notes.push_back(
      "the single-element rate is bistable (docs/PERFORMANCE.md): a loaded machine can settle "
      "either queue in its slow regime");
  return out;
}

}  // namespace zc::bench
