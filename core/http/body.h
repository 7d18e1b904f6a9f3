// Request-body helpers shared by the server's body modes.
#pragma once

#include "matrix/json_text.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <istream>
#include <string>

namespace eltrix::http {

// parse_json and kMaxJsonDepth: matrix/json_text.h (sync/ parses filters with it too).
using matrix::kMaxJsonDepth;
using matrix::parse_json;

/// Reads and drops up to `max` bytes; true if the stream ended within them.
bool discard(std::istream& in, std::size_t max);

}  // namespace eltrix::http
