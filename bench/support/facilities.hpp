// bench/support/facilities.hpp: what `zcopy doctor` shows: every kernel facility probe, the NATS
// client library and, given server URLs, which NATS server they reach (the client's answer, with
// any secret in a URL cut off), then how `zcopy mount` would run.
//
//   zc::bench::describe_facilities(zc::probe_all(), nats_urls).print(stdout, json);
#pragma once

#include <string>
#include <vector>

#include "bench/support/report.hpp"
#include "zcopy/core/capabilities.hpp"
#include "zcopy/core/error.hpp"

namespace zc::bench {

// Text: one table row per facility, the mount lines and a count; JSON: one record per facility.
// `nats_urls` may be empty (no server line), else URLs parse_nats_urls accepts.
Report describe_facilities(const std::vector<Probe>& probes, const std::string& nats_urls);

// `names` (`zcopy doctor --require`) as capabilities; Errc::usage for an unknown name, with every
// known one: a typo is a mistake, not a missing capability.
Result<std::vector<Capability>> capabilities_named(const std::vector<std::string>& names);

// Errc::capability_missing naming each of `required` that is missing, and why.
Result<void> require_capabilities(const std::vector<Capability>& required);

}  // namespace zc::bench
