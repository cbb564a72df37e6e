#include "zcopy/http/send_method.hpp"

#include <array>

#include "zcopy/core/capabilities.hpp"

namespace zc::http {
namespace {

constexpr std::array<std::pair<SendMethod, std::string_view>, 5> kNames{{
    {SendMethod::automatic, "auto"},
    {SendMethod::sendfile, "sendfile"},
    {SendMethod::splice, "splice"},
    {SendMethod::uring, "uring"},
    {SendMethod::copy, "copy"},
}};

std::optional<Capability> needs(SendMethod method) {
  switch (method) {
    case SendMethod::sendfile:
      return Capability::sendfile;
    case SendMethod::splice:
      return Capability::splice;
    case SendMethod::uring:
      return Capability::io_uring_splice;
    default:
      return std::nullopt;
  }
}

}  // namespace

std::string_view name(SendMethod method) noexcept {
  for (const auto& [m, n] : kNames) {
    if (m == method) return n;
  }
  return "?";
}

std::optional<SendMethod> send_method_from_name(std::string_view text) noexcept {
  for (const auto& [m, n] : kNames) {
    if (n == text) return m;
  }
  return std::nullopt;
}

Result<MethodChoice> choose_send_method(SendMethod requested) {
  if (requested != SendMethod::automatic) {
    if (const auto capability = needs(requested)) {
      const Probe& p = probe(*capability);
      if (!p.available) {
        return fail(Errc::capability_missing, "--method " + std::string(name(requested)),
                    std::string(zc::name(*capability)) + " unavailable: " + p.detail);
      }
    }
    return MethodChoice{requested, {}};
  }
  std::string note;
  for (const SendMethod candidate : {SendMethod::sendfile, SendMethod::splice}) {
    const Probe& p = probe(*needs(candidate));
    if (p.available) {
      if (!note.empty()) note += "; using " + std::string(name(candidate));
      return MethodChoice{candidate, note};
    }
    note += (note.empty() ? "auto: " : "; ") + std::string(name(candidate)) +
            " unavailable: " + p.detail;
  }
  return MethodChoice{SendMethod::copy, note + "; using copy"};
}

}  // namespace zc::http
