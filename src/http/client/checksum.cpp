#include "zcopy/http/client/checksum.hpp"

namespace zc::http {

Result<Checksum> parse_checksum(std::string_view text) {
  const std::string what = "checksum '" + std::string(text.substr(0, 160)) + "'";
  const std::size_t equals = text.find('=');
  if (equals == std::string_view::npos) {
    return fail(Errc::invalid_argument, what, "expected TYPE=HEX, e.g. sha-256=9f86d0...");
  }
  const auto algorithm = secure::digest_from_name(text.substr(0, equals));
  if (!algorithm) {
    return fail(Errc::invalid_argument, what, "unknown digest type; expected sha-256 or sha-512");
  }
  const std::string_view hex = text.substr(equals + 1);
  const std::size_t digits = 2 * secure::digest_size(*algorithm);
  auto value = secure::from_hex(hex);
  if (!value || hex.size() != digits) {
    return fail(Errc::invalid_argument, what,
                "a " + std::string(secure::digest_name(*algorithm)) + " digest is " +
                    std::to_string(digits) + " hexadecimal digits");
  }
  return Checksum{.algorithm = *algorithm, .value = std::move(*value), .origin = "--checksum"};
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits `field` at commas into `key=value` members and keeps the strongest known algorithm's
// value, decoded by `decode_value` (which returns nullopt when the value is malformed).
template <class Decode>
Result<std::optional<Checksum>> strongest(std::string_view field, std::string_view name,
                                          Decode decode_value) {
  const std::string what = "parse " + std::string(name);
  std::optional<Checksum> best;
  while (true) {
    const std::size_t comma = field.find(',');
    std::string_view member = trim(field.substr(0, comma));
    const std::size_t equals = member.find('=');
    if (member.empty() || equals == std::string_view::npos || equals == 0) {
      return fail(Errc::corrupt, what, "a member is not KEY=VALUE");
    }
    const auto algorithm = secure::digest_from_name(member.substr(0, equals));
    if (algorithm) {
      auto value = decode_value(member.substr(equals + 1));
      if (!value || value->size() != secure::digest_size(*algorithm)) {
        return fail(Errc::corrupt, what,
                    "the " + std::string(secure::digest_name(*algorithm)) + " value is malformed");
      }
      if (!best || secure::digest_size(*algorithm) > secure::digest_size(best->algorithm)) {
        best = Checksum{
            .algorithm = *algorithm, .value = std::move(*value), .origin = std::string(name)};
      }
    }
    if (comma == std::string_view::npos) break;
    field.remove_prefix(comma + 1);
  }
  return best;
}

}  // namespace

Result<std::optional<Checksum>> parse_repr_digest(std::string_view field) {
  return strongest(field, "Repr-Digest",
                   [](std::string_view value) -> std::optional<std::vector<std::uint8_t>> {
                     // A byte sequence, `:BASE64:`, then parameters we have no use for. Only our
                     // algorithms' keys are lower case per RFC 8941; others are skipped unread.
                     const std::size_t semicolon = value.find(';');
                     value = trim(value.substr(0, semicolon));
                     if (value.size() < 2 || value.front() != ':' || value.back() != ':') {
                       return std::nullopt;
                     }
                     return secure::from_base64(value.substr(1, value.size() - 2));
                   });
}

Result<std::optional<Checksum>> parse_digest_field(std::string_view field) {
  return strongest(field, "Digest",
                   [](std::string_view value) { return secure::from_base64(trim(value)); });
}

std::string describe(const Checksum& checksum) {
  return std::string(secure::digest_name(checksum.algorithm)) + " " +
         secure::to_hex(checksum.value);
}

}  // namespace zc::http
