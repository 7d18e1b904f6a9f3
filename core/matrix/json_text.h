// Parsing untrusted JSON text with bounded nesting: the request bodies the
// HTTP layer reads, and the filters sync/ reads from query strings and
// storage.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace eltrix::matrix {

/// Parses any JSON text (object, array or scalar) into `out`, so callers can
/// tell "valid JSON but not an object" (M_BAD_JSON) from "not JSON"
/// (M_NOT_JSON). False when the text is not JSON, including invalid UTF-8.
/// Nesting deeper than kMaxJsonDepth is refused too (bounded recursion).
bool parse_json(const std::string& text, nlohmann::json& out);
inline constexpr int kMaxJsonDepth = 100;

}  // namespace eltrix::matrix
