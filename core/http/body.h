// Request-body helpers shared by the server's body modes.
#pragma once

#include <Poco/Dynamic/Var.h>

#include <cstddef>
#include <istream>
#include <string>

namespace eltrix::http {

/// Parses any JSON text into `out`. Poco 1.11 only accepts an object or array
/// at the top level, so a scalar ("42", "null") is parsed inside an array;
/// that keeps "valid JSON but not an object" (M_BAD_JSON) apart from "not
/// JSON" (M_NOT_JSON). False when the text is not JSON.
bool parse_json(const std::string& text, Poco::Dynamic::Var& out);

/// Reads and drops up to `max` bytes; true if the stream ended within them.
bool discard(std::istream& in, std::size_t max);

}  // namespace eltrix::http
