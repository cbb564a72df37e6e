// zcopy/core/method_ladder.hpp: the ways a transfer can move data, their names, what each needs
// from the kernel, and which one to use.
//
// Every mover has an enum of methods with `automatic` among them. A ladder lists each method once
// with its name and the capability it needs, best first; the rungs `automatic` may take are
// marked. It gives the one name function and the one parser of the enum, and choose():
//
//   constexpr zc::MethodLadder<Method, 3> kLadder{"--method", Method::automatic, {{
//       {Method::automatic, "auto"},
//       {Method::splice, "splice", zc::Capability::splice, true},
//       {Method::copy, "copy", std::nullopt, true},
//   }}};
//   zc::Result<zc::MethodChoice<Method>> m = kLadder.choose(Method::automatic);
//   if (m && !m->note.empty()) std::fprintf(stderr, "%s\n", m->note.c_str());
//
// An explicit method that is missing fails with Errc::capability_missing naming what is missing
// ("--method splice: splice unavailable: ..."). `automatic` walks its rungs in order and takes
// the first one available; when it had to pass one, the choice carries a one-line note ("auto:
// splice unavailable: ...; using copy").
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "zcopy/core/capabilities.hpp"
#include "zcopy/core/error.hpp"

namespace zc {

template <class Method>
struct MethodRung {
  Method method;
  std::string_view name;
  std::optional<Capability> needs = std::nullopt;  // nullopt: always possible
  bool automatic_takes = false;                    // `automatic` may choose it
};

template <class Method>
struct MethodChoice {
  Method method;
  // When `automatic` passed a rung: "auto: sendfile unavailable: ...; using splice". Else empty.
  std::string note;
  // What the first rung it passed lacked ("FUSE passthrough unavailable: ..."); empty otherwise.
  std::string missing;
};

template <class Method, std::size_t N>
class MethodLadder {
 public:
  using Rungs = std::array<MethodRung<Method>, N>;

  // `option` names the choice in errors ("--method", "mount --mode").
  constexpr MethodLadder(std::string_view option, Method automatic, Rungs rungs)
      : option_(option), automatic_(automatic), rungs_(rungs) {}

  constexpr std::string_view to_string(Method method) const noexcept {
    for (const auto& rung : rungs_) {
      if (rung.method == method) return rung.name;
    }
    return "?";
  }

  constexpr std::optional<Method> from_name(std::string_view text) const noexcept {
    for (const auto& rung : rungs_) {
      if (rung.name == text) return rung.method;
    }
    return std::nullopt;
  }

  // "auto, sendfile, splice or copy": the names, for a usage message.
  std::string names() const {
    std::string text;
    for (std::size_t i = 0; i < N; ++i) {
      if (i > 0) text += i + 1 == N ? " or " : ", ";
      text += rungs_[i].name;
    }
    return text;
  }

  // Decides with zc::probe().
  Result<MethodChoice<Method>> choose(Method requested) const {
    return choose(requested, [](Capability c) -> const Probe& { return probe(c); });
  }

  // Decides with `check(capability)`, which returns a Probe: for a probe of this moment
  // (probe_uncached) or of one object (a socket option).
  template <class Check>
  Result<MethodChoice<Method>> choose(Method requested, Check&& check) const {
    if (requested != automatic_) {
      const MethodRung<Method>* rung = find(requested);
      if (rung == nullptr) {
        return fail(Errc::invalid_argument, std::string(option_), "unknown method");
      }
      if (rung->needs) {
        const Probe& p = check(*rung->needs);
        if (!p.available) {
          return fail(Errc::capability_missing,
                      std::string(option_) + " " + std::string(rung->name),
                      missing_text(*rung->needs, p));
        }
      }
      return MethodChoice<Method>{requested, {}, {}};
    }
    MethodChoice<Method> choice{automatic_, {}, {}};
    for (const auto& rung : rungs_) {
      if (!rung.automatic_takes) continue;
      if (rung.needs) {
        const Probe& p = check(*rung.needs);
        if (!p.available) {
          const std::string why = missing_text(*rung.needs, p);
          if (choice.missing.empty()) choice.missing = why;
          choice.note += (choice.note.empty() ? "auto: " : "; ") + why;
          continue;
        }
      }
      choice.method = rung.method;
      if (!choice.note.empty()) choice.note += "; using " + std::string(rung.name);
      return choice;
    }
    return fail(Errc::capability_missing, std::string(option_) + " auto", choice.note);
  }

 private:
  constexpr const MethodRung<Method>* find(Method method) const noexcept {
    for (const auto& rung : rungs_) {
      if (rung.method == method) return &rung;
    }
    return nullptr;
  }

  static std::string missing_text(Capability capability, const Probe& p) {
    return std::string(name(capability)) + " unavailable: " + p.detail;
  }

  std::string_view option_;
  Method automatic_;
  Rungs rungs_;
};

}  // namespace zc
