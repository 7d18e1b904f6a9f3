// Canonical JSON (Matrix spec, appendices, "Canonical JSON"): the byte encoding
// that event hashes, event IDs and signatures are computed over.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace eltrix::matrix {

/// Integers must lie in [-(2^53)+1, 2^53-1] so that every implementation,
/// including those that store numbers as doubles, sees the same value.
inline constexpr std::int64_t kCanonicalJsonMaxInt = (std::int64_t{1} << 53) - 1;
inline constexpr std::int64_t kCanonicalJsonMinInt = -kCanonicalJsonMaxInt;

/// Nesting limit applied by is_canonical_compatible() to client-supplied values
/// (an object or array counts as one level).
inline constexpr std::size_t kMaxClientJsonDepth = 64;

/// Hard nesting limit of canonical_json(); exists only so that hostile input
/// cannot exhaust the stack. Well above anything an honest event contains.
inline constexpr std::size_t kMaxCanonicalJsonDepth = 512;

/// Encodes `value` as canonical JSON: object keys sorted by code point, no
/// insignificant whitespace, non-ASCII characters as raw UTF-8, and exactly the
/// escapes Python's json.dumps(ensure_ascii=False) produces.
///
/// Floats with an integral value (such as 1e10 or -0.0) are written as integers,
/// as the spec's examples require. Throws std::invalid_argument naming the
/// problem for fractional, infinite or NaN numbers, integers outside the range
/// above, strings that are not valid UTF-8, nesting deeper than
/// kMaxCanonicalJsonDepth, and binary values.
std::string canonical_json(const nlohmann::json& value);

/// True when canonical_json(value) would succeed and `value` nests no deeper
/// than kMaxClientJsonDepth; meant for validating client-supplied content
/// before it becomes part of an event. On failure, `why` (if not null) receives
/// a message suitable for an M_BAD_JSON error.
bool is_canonical_compatible(const nlohmann::json& value, std::string* why);

}  // namespace eltrix::matrix
