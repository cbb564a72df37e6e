// run_frames(): the producer child and the ticking compositor.
#include "bench/frame/frames_run.hpp"

#include <sched.h>
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <optional>
#include <thread>
#include <vector>

#include "bench/support/process.hpp"
#include "bench/support/stats.hpp"
#include "zcopy/frame/camera_source.hpp"
#include "zcopy/frame/frame_pattern.hpp"
#include "zcopy/frame/frame_ticker.hpp"
#include "zcopy/frame/swap_chain.hpp"
#include "zcopy/frame/y4m_writer.hpp"

namespace zc::bench {
namespace {

using Clock = std::chrono::steady_clock;

// The producer child's loop; its exit code says how it ended.
int produce(SwapChain& chain, const FramesOptions& options, Clock::time_point end) {
  const std::size_t row = chain.geometry().row_bytes;
  const bool paced = options.mode == PresentMode::mailbox;
  const auto period = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / (options.hz * 2)));
  auto next = Clock::now();
  CameraDevice camera;
  for (std::uint64_t id = 1; Clock::now() < end; ++id) {
    auto back = chain.acquire(std::chrono::milliseconds(100));
    if (!back) {
      if (back.error().code() == Errc::timeout) continue;
      return 1;
    }
    if (options.source == FrameSource::camera) {
      auto grant = DmaGrant::for_slot(chain, back->slot);
      if (!grant || !camera.capture(*grant, id, row, chain.geometry().height)) return 3;
    } else {
      render_frame_pattern(back->bytes, row, id);
    }
    if (!chain.present(*back, id)) return 2;
    if (paced) {
      next += period;
      std::this_thread::sleep_until(next);
    }
  }
  return 0;
}

// SCHED_FIFO at a low real-time priority for this process and the children it forks.
Result<void> make_realtime() {
  sched_param param{};
  param.sched_priority = 10;
  if (::sched_setscheduler(0, SCHED_FIFO, &param) != 0) {
    const int error = errno;
    if (error == EPERM) {
      return fail(Errc::capability_missing, "sched_setscheduler(SCHED_FIFO)",
                  "--realtime needs CAP_SYS_NICE (run as root)");
    }
    return fail_errno(error, "sched_setscheduler(SCHED_FIFO)");
  }
  return {};
}

}  // namespace

Result<FramesReport> run_frames(const FramesOptions& options) {
  if (options.realtime) {
    if (auto ok = make_realtime(); !ok) return std::unexpected(std::move(ok.error()));
  }
  auto chain = SwapChain::create({.width = options.width,
                                  .height = options.height,
                                  .bytes_per_pixel = 4,
                                  .slot_count = options.slots,
                                  .mode = options.mode,
                                  .pin = options.pin,
                                  .name = "zcopy-frames"});
  if (!chain) return std::unexpected(std::move(chain.error()));
  auto ticker = FrameTicker::start(options.hz);
  if (!ticker) return std::unexpected(std::move(ticker.error()));
  std::optional<Y4mWriter> video;
  if (!options.out.empty()) {
    auto writer = Y4mWriter::create(options.out, options.width, options.height,
                                    static_cast<std::uint32_t>(std::lround(options.hz)));
    if (!writer) return std::unexpected(std::move(writer.error()));
    video.emplace(std::move(*writer));
  }

  const auto start = Clock::now();
  const auto end =
      start + std::chrono::nanoseconds(static_cast<std::int64_t>(options.seconds * 1e9));
  // The child shares the chain's mapping: fork keeps MAP_SHARED memory shared.
  auto producer = Process::fork([&] { return produce(*chain, options, end); });
  if (!producer) return std::unexpected(std::move(producer.error()));
  if (auto watched = chain->watch_peer(producer->pid(), SwapRole::producer); !watched) {
    producer->kill();
    return std::unexpected(std::move(watched.error()));
  }

  FramesReport report;
  std::vector<double> latencies;
  // Camera: the compositor's view of each slot, to bracket its reads of what the device wrote.
  std::vector<DmaGrant> grants;
  if (options.source == FrameSource::camera) {
    for (std::uint32_t slot = 0; slot < chain->geometry().slot_count; ++slot) {
      auto grant = DmaGrant::for_slot(*chain, slot);
      if (!grant) {
        producer->kill();
        return std::unexpected(std::move(grant.error()));
      }
      grants.push_back(std::move(*grant));
    }
  }
  const std::size_t row = chain->geometry().row_bytes;
  std::uint32_t current_slot = 0;
  while (Clock::now() < end) {
    auto missed = ticker->wait();
    if (!missed) {
      producer->kill();
      return std::unexpected(std::move(missed.error()));
    }
    report.missed_ticks += *missed;
    ++report.ticks;
    auto flip = chain->flip();
    if (!flip) {
      producer->kill();
      return std::unexpected(std::move(flip.error()));
    }
    DmaGrant* access = nullptr;
    if (!grants.empty() && !chain->front_bytes().empty()) {
      access = &grants[flip->flipped ? flip->slot : current_slot];
      if (auto begun = access->begin_cpu_access(DmaSync::read); !begun) {
        producer->kill();
        return std::unexpected(std::move(begun.error()));
      }
    }
    if (flip->flipped) {
      current_slot = flip->slot;
      ++report.shown;
      latencies.push_back(static_cast<double>(flip->latency.count()) / 1e3);
      if (frame_pattern_id(chain->front_bytes(), row) != flip->frame_id) ++report.torn;
    } else {
      ++report.repeats;
    }
    if (video && !chain->front_bytes().empty()) {
      if (auto ok = video->write_frame(chain->front_bytes(), row, 4); !ok) {
        producer->kill();
        return std::unexpected(std::move(ok.error()));
      }
    }
    if (access != nullptr) (void)access->end_cpu_access(DmaSync::read);
    if (chain->check_peer()) break;  // the producer died early
  }
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  // The producer stops at `end` by itself; a FIFO producer waiting for a slot times out first.
  for (int i = 0; i < 4; ++i) (void)chain->flip();
  auto exited = producer->wait_for(std::chrono::seconds(5));
  if (!exited) {
    producer->kill();
    return fail(Errc::timeout, "frames producer", "did not stop within 5 s of the end");
  }
  report.producer_exit = exited->code;
  if (video) {
    if (auto ok = video->finish(); !ok) return std::unexpected(std::move(ok.error()));
    report.video_frames = video->frames();
  }
  const SwapChainStats stats = chain->stats();
  report.presented = stats.presented;
  report.dropped = stats.dropped;
  report.fps = report.seconds > 0 ? static_cast<double>(report.shown) / report.seconds : 0;
  report.tick_us = 1e6 / options.hz;
  for (const DmaGrant& grant : grants) {
    report.cpu_access_begins += grant.begins();
    report.cpu_access_ends += grant.ends();
  }
  const Percentiles p = percentiles(latencies);
  report.latency_p50_us = p.p50;
  report.latency_p99_us = p.p99;
  report.latency_max_us = p.max;
  return report;
}

}  // namespace zc::bench

namespace zc::bench {

Result<void> set_frame_size(FramesOptions& options, const std::string& text) {
  unsigned width = 0;
  unsigned height = 0;
  char tail = 0;
  if (std::sscanf(text.c_str(), "%ux%u%c", &width, &height, &tail) != 2 || width < 8 ||
      height < 1 || width > 16384 || height > 16384) {
    return fail(Errc::usage, "--size",
                "'" + text + "': expected WIDTHxHEIGHT, width 8-16384, height 1-16384");
  }
  options.width = width;
  options.height = height;
  return {};
}

Report describe(const FramesReport& r, const FramesOptions& o) {
  const char* mode = o.mode == PresentMode::fifo ? "fifo" : "mailbox";
  const char* source = o.source == FrameSource::camera ? "camera" : "render";
  Report report;
  std::string& text = report.text;
  text = format_text("zcopy frames: %s %.0f Hz, %ux%u RGBA from %s, %u slots, %.1f s\n", mode, o.hz,
                     o.width, o.height, source, o.slots, r.seconds);
  text += format_text("  fps          %.1f (new frames shown per second)\n", r.fps);
  text += format_text("  ticks        %" PRIu64 " (%" PRIu64 " missed)\n", r.ticks, r.missed_ticks);
  text += format_text("  presented    %" PRIu64 "\n", r.presented);
  text += format_text("  shown        %" PRIu64 "\n", r.shown);
  text += format_text("  dropped      %" PRIu64 "\n", r.dropped);
  text += format_text("  repeats      %" PRIu64 " (ticks with nothing new)\n", r.repeats);
  text += format_text("  torn         %" PRIu64 "\n", r.torn);
  text += format_text("  present->flip p50 %.0f us, p99 %.0f us, max %.0f us (tick %.0f us)\n",
                      r.latency_p50_us, r.latency_p99_us, r.latency_max_us, r.tick_us);
  if (o.source == FrameSource::camera) {
    text += format_text("  cpu access   %" PRIu64 " begin / %" PRIu64
                        " end (DMA_BUF_IOCTL_SYNC points)\n",
                        r.cpu_access_begins, r.cpu_access_ends);
  }
  if (r.producer_exit != 0)
    text += format_text("  producer     stopped with code %d\n", r.producer_exit);
  if (!o.out.empty()) {
    text += format_text("  video        %s, %" PRIu64 " frames\n", o.out.c_str(), r.video_frames);
  }
  JsonRecord record;
  record.add("mode", mode)
      .add("source", source)
      .add("hz", o.hz)
      .add("width", std::uint64_t{o.width})
      .add("height", std::uint64_t{o.height})
      .add("slots", std::uint64_t{o.slots})
      .add("realtime", o.realtime)
      .add("seconds", r.seconds)
      .add("fps", r.fps)
      .add("ticks", r.ticks)
      .add("missed_ticks", r.missed_ticks)
      .add("presented", r.presented)
      .add("shown", r.shown)
      .add("dropped", r.dropped)
      .add("repeats", r.repeats)
      .add("torn", r.torn)
      .add("latency_p50_us", r.latency_p50_us)
      .add("latency_p99_us", r.latency_p99_us)
      .add("latency_max_us", r.latency_max_us)
      .add("tick_us", r.tick_us)
      .add("cpu_access_begins", r.cpu_access_begins)
      .add("cpu_access_ends", r.cpu_access_ends)
      .add("producer_exit", r.producer_exit)
      .add("video_frames", r.video_frames);
  report.records.push_back(std::move(record));
  return report;
}

}  // namespace zc::bench
