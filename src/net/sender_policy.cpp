// The zero-copy sender's policy: which method a send takes. The method a sender starts with,
// the threshold below which a send is copied, the trial among the methods once the kernel
// reports copies (method_trial.hpp), and the switch between backends.
#include <cerrno>
#include <cstdio>
#include <string>

#include "net/sender_state.hpp"
#include "zcopy/core/method_ladder.hpp"

namespace zc::net {
namespace {

// automatic starts with MSG_ZEROCOPY when the socket takes SO_ZEROCOPY, else copies; SEND_ZC
// joins once the caller registers buffers (register_buffer).
constexpr MethodLadder<SendMethod, 4> kSendMethods{
    "send method",
    SendMethod::automatic,
    {{
        {SendMethod::automatic, "auto"},
        {SendMethod::msg_zerocopy, "zerocopy", Capability::msg_zerocopy, true},
        {SendMethod::uring_zc, "uring-zc", Capability::io_uring_send_zc},
        {SendMethod::copy, "copy", std::nullopt, true},
    }}};

}  // namespace

std::string_view to_string(SendMethod method) noexcept {
  return kSendMethods.to_string(method);
}

std::optional<SendMethod> send_method_from_name(std::string_view name) noexcept {
  return kSendMethods.from_name(name);
}

Result<void> ZeroCopySender::State::choose_initial_method() {
  // MSG_ZEROCOPY is a property of this socket: it is there when the socket takes SO_ZEROCOPY.
  const auto check = [this](Capability capability) -> Probe {
    if (capability != Capability::msg_zerocopy) return probe(capability);
    const int one = 1;
    if (::setsockopt(fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof one) == 0) {
      return {capability, true, "SO_ZEROCOPY"};
    }
    return {capability, false,
            Error::from_errno(errno, "setsockopt(SO_ZEROCOPY, fd " + std::to_string(fd) + ")")
                .message()};
  };
  auto choice = kSendMethods.choose(options.method, check);
  if (!choice) return std::unexpected(choice.error());
  const SendMethod method = choice->method;
  stats.note = choice->note;
  msg_zerocopy_ready = method == SendMethod::msg_zerocopy;
  if (method == SendMethod::uring_zc) {
    if (auto ok = setup_ring(); !ok) return ok;
    in_flight = SendMethod::uring_zc;
  }
  active = method;
  stats.method = method;
  if (options.method == SendMethod::automatic && method != SendMethod::copy) {
    trial.emplace(options.trial_epoch_bytes, options.trial_recheck_bytes);
  }
  return {};
}

Result<bool> ZeroCopySender::State::start_registered_sends() {
  // The cheapest zero-copy send there is, when the kernel has it; without, go on as before.
  auto uring = kSendMethods.choose(SendMethod::uring_zc);
  if (!uring) {
    stats.note = uring.error().detail() + ": registered buffers unused";
    return false;
  }
  if (auto ok = setup_ring(); !ok) return std::unexpected(ok.error());
  if (!trial) trial.emplace(options.trial_epoch_bytes, options.trial_recheck_bytes);
  return true;
}

void ZeroCopySender::State::note_outstanding() noexcept {
  stats.outstanding_high_water_bytes =
      std::max(stats.outstanding_high_water_bytes, tracker.bytes_outstanding());
  stats.outstanding_high_water_sends =
      std::max(stats.outstanding_high_water_sends, tracker.sends_outstanding());
}

void ZeroCopySender::State::apply_copied_policy() {
  if (tracker.calls_copied() == 0) return;
  if (trial) {
    // The method changes only between sends (choose_method), never inside one.
    std::array<SendMethod, MethodTrial::kMaxMethods> methods{};
    if (trial->start(std::span(methods.data(), trial_methods(methods)))) {
      stats.note =
          "the kernel copied zero-copy sends (local delivery): measuring which method pays";
    }
    return;
  }
  if (!options.switch_when_copied || active == SendMethod::copy) return;
  active = SendMethod::copy;
  stats.method = SendMethod::copy;
  stats.switched_to_copy = true;
  stats.note = "switched to copying: the kernel copied zero-copy sends (local delivery)";
}

SendMethod ZeroCopySender::State::default_zero_copy() const noexcept {
  if (ring && !registered.empty()) return SendMethod::uring_zc;
  return msg_zerocopy_ready ? SendMethod::msg_zerocopy : SendMethod::copy;
}

std::size_t ZeroCopySender::State::trial_methods(
    std::array<SendMethod, MethodTrial::kMaxMethods>& methods) const {
  std::size_t count = 0;
  methods[count++] = default_zero_copy();
  if (methods[0] == SendMethod::uring_zc && msg_zerocopy_ready) {
    methods[count++] = SendMethod::msg_zerocopy;
  }
  methods[count++] = SendMethod::copy;
  return count;
}

void ZeroCopySender::State::choose_method() noexcept {
  if (!trial) return;
  active = trial->method().value_or(default_zero_copy());
  stats.method = active;
}

void ZeroCopySender::State::account_trial(std::uint64_t bytes) {
  const bool was_running = trial->running();
  const SendMethod before = trial->chosen();
  if (!trial->sent(bytes)) {
    if (!was_running && trial->running()) {  // a recheck began
      stats.note = "measuring again which method pays; before: " + stats.note;
    }
    return;
  }
  choose_method();  // stats() names the method the next send uses
  stats.trial_copy = trial->figures(SendMethod::copy);
  stats.trial_msg_zerocopy = trial->figures(SendMethod::msg_zerocopy);
  stats.trial_uring_zc = trial->figures(SendMethod::uring_zc);
  stats.switched_to_copy = trial->chosen() == SendMethod::copy;
  std::string measured;
  for (SendMethod method : {SendMethod::copy, SendMethod::msg_zerocopy, SendMethod::uring_zc}) {
    const MethodFigures f = trial->figures(method);
    if (f.gb_per_s == 0) continue;
    char figures[96];
    std::snprintf(figures, sizeof figures, "%s%s %.2f GB/s at %.3f s/GB",
                  measured.empty() ? "" : ", ", std::string(to_string(method)).c_str(), f.gb_per_s,
                  f.cpu_s_per_gb);
    measured += figures;
  }
  const std::string chosen(to_string(trial->chosen()));
  if (was_running) {
    stats.note = "the kernel copies zero-copy sends (local delivery); measured " + measured + ": " +
                 chosen + " kept";
  } else {
    ++stats.method_changes;
    stats.note = std::string(to_string(before)) + " slowed down (measured " + measured +
                 "): went over to " + chosen;
  }
}

Result<void> ZeroCopySender::State::switch_backend(SendMethod backend, Clock::time_point until) {
  if (backend == in_flight) return {};
  while (tracker.calls_outstanding() > 0) {
    if (auto ok = wait_for_completion(until); !ok) return ok;
  }
  if (backend == SendMethod::msg_zerocopy) {
    if (auto ok = tracker.renumber_calls(kernel_zerocopy_calls); !ok) return ok;
  }
  in_flight = backend;
  return {};
}

}  // namespace zc::net
