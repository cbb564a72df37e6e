// zcopy/http/client/checksum.hpp: the digest a download must have, and its check.
//
//   zc::Result<zc::http::Checksum> c = zc::http::parse_checksum("sha-256=9f86d0...");
//   // aria2's spelling, --checksum=sha-256=HEX, reaches here as the same text.
//
// A download given a Checksum hashes OUTPUT.part from the page cache (secure::hash_file) and
// renames it only when the digest matches; a mismatch removes the .part, whose bytes are then
// known to be wrong, and names both digests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zcopy/core/error.hpp"
#include "zcopy/secure/digest.hpp"

namespace zc::http {

struct Checksum {
  secure::DigestAlgorithm algorithm = secure::DigestAlgorithm::sha256;
  std::vector<std::uint8_t> value;
  std::string origin;  // where it came from, for messages: "--checksum", "Repr-Digest", ...

  bool operator==(const Checksum& other) const {
    return algorithm == other.algorithm && value == other.value;
  }
};

// "TYPE=HEX" with TYPE sha-256 or sha-512 (any case, with or without the dash) and exactly as many
// hex digits as the digest has. Errc::invalid_argument saying what is wrong otherwise.
Result<Checksum> parse_checksum(std::string_view text);

// The strongest digest we know in a Repr-Digest field (RFC 9530: a structured-field dictionary,
// `sha-256=:BASE64:, sha-512=:BASE64:`, parameters ignored), or in the older Digest field (RFC
// 3230: `SHA-256=BASE64`, any case). std::nullopt when it names only algorithms we do not know;
// Errc::corrupt naming the fault when the field is malformed, or when a value has the wrong length.
Result<std::optional<Checksum>> parse_repr_digest(std::string_view field);
Result<std::optional<Checksum>> parse_digest_field(std::string_view field);

// "sha-256 9f86d0..." for messages.
std::string describe(const Checksum& checksum);

}  // namespace zc::http
