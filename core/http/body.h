// Request-body helpers shared by the server's body modes.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <istream>
#include <string>

namespace eltrix::http {

/// Parses any JSON text (object, array or scalar) into `out`, so callers can
/// tell "valid JSON but not an object" (M_BAD_JSON) from "not JSON"
/// (M_NOT_JSON). False when the text is not JSON, including invalid UTF-8.
/// Nesting deeper than kMaxJsonDepth is refused too (bounded recursion).
bool parse_json(const std::string& text, nlohmann::json& out);
inline constexpr int kMaxJsonDepth = 100;

/// Reads and drops up to `max` bytes; true if the stream ended within them.
bool discard(std::istream& in, std::size_t max);

}  // namespace eltrix::http
