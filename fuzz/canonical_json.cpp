// Fuzz target: canonical JSON (matrix/canonical_json.h), the encoding event
// hashes and signatures are computed over, and the UTF-8 check it shares with
// the identifier grammar (matrix/utf8.h).
//
// Input: any bytes, read two ways:
//  1. as a request body (http::parse_json, as events arrive from clients);
//  2. as one raw string value built in code (no parser checked its UTF-8, as
//     for values assembled by the server itself).
// Properties:
//  - canonical_json either encodes or throws std::invalid_argument;
//  - is_canonical_compatible(v) implies canonical_json(v) succeeds, and a
//    failure always comes with a reason;
//  - nothing nlohmann's parser accepted fails for invalid UTF-8;
//  - round trip: canonical(parse(canonical(x))) == canonical(x), and the
//    parsed canonical text equals x once floats are read as integers;
//  - the encoding is ASCII-clean where it must be: no raw control character,
//    valid UTF-8 throughout;
//  - is_valid_utf8 agrees with an independent decoder (RFC 3629 by code
//    point value rather than by lead-byte table).
#include "matrix/canonical_json.h"
#include "fuzz_check.h"
#include "http/body.h"
#include "matrix/utf8.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

using eltrix::fuzz::as_text;
using nlohmann::json;
namespace matrix = eltrix::matrix;

/// Reference UTF-8 check: decode each sequence to its code point, then reject
/// overlong forms, surrogates and values above U+10FFFF by value.
bool reference_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto lead = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (lead < 0x80) {
      len = 1;
      cp = lead;
    } else if ((lead & 0xE0) == 0xC0) {
      len = 2;
      cp = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      len = 3;
      cp = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      len = 4;
      cp = lead & 0x07;
    } else {
      return false;
    }
    if (s.size() - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    static constexpr std::uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinimum[len]) return false;            // overlong
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;  // UTF-16 surrogate
    if (cp > 0x10FFFF) return false;                 // beyond Unicode
    i += len;
  }
  return true;
}

/// canonical_json, or nullopt-like empty flag when it refuses.
bool encode(const json& value, std::string& out, std::string& error) {
  try {
    out = matrix::canonical_json(value);
    return true;
  } catch (const std::invalid_argument& e) {
    error = e.what();
    return false;
  }
}

/// Integral floats become integers in canonical JSON; compare that way.
bool same_after_canonical(const json& original, const json& reparsed) {
  if (original.is_number() && reparsed.is_number()) {
    return original.get<double>() == reparsed.get<double>();
  }
  if (original.type() != reparsed.type()) return false;
  if (original.is_object()) {
    if (original.size() != reparsed.size()) return false;
    for (const auto& [key, member] : original.items()) {
      const auto it = reparsed.find(key);
      if (it == reparsed.end() || !same_after_canonical(member, *it)) return false;
    }
    return true;
  }
  if (original.is_array()) {
    if (original.size() != reparsed.size()) return false;
    for (std::size_t i = 0; i < original.size(); ++i) {
      if (!same_after_canonical(original[i], reparsed[i])) return false;
    }
    return true;
  }
  return original == reparsed;
}

void check_parsed(const json& value) {
  std::string why;
  const bool compatible = matrix::is_canonical_compatible(value, &why);
  std::string canonical;
  std::string error;
  const bool encoded = encode(value, canonical, error);
  if (compatible) FUZZ_CHECK(encoded);
  if (!compatible) FUZZ_CHECK(!why.empty());
  if (!encoded) {
    FUZZ_CHECK(!compatible);
    // The parser validated every string, so UTF-8 is never the problem here.
    FUZZ_CHECK(error.find("UTF-8") == std::string::npos);
    return;
  }
  FUZZ_CHECK(matrix::detail::is_valid_utf8(canonical));
  for (const char c : canonical) FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20);

  json reparsed;
  FUZZ_CHECK(eltrix::http::parse_json(canonical, reparsed));
  FUZZ_CHECK(same_after_canonical(value, reparsed));
  std::string again;
  FUZZ_CHECK(encode(reparsed, again, error));
  FUZZ_CHECK(again == canonical);
}

void check_raw_string(std::string_view bytes) {
  const bool valid = reference_utf8(bytes);
  FUZZ_CHECK(matrix::detail::is_valid_utf8(bytes) == valid);
  // A string the server built itself: encodable exactly when it is UTF-8,
  // as a value and as an object key.
  std::string out;
  std::string error;
  FUZZ_CHECK(encode(json(std::string(bytes)), out, error) == valid);
  FUZZ_CHECK(encode(json::object({{std::string(bytes), 1}}), out, error) == valid);
  if (valid) {
    json reparsed;
    FUZZ_CHECK(eltrix::http::parse_json(out, reparsed));
    FUZZ_CHECK(reparsed == json::object({{std::string(bytes), 1}}));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = as_text(data, size);
  json value;
  if (eltrix::http::parse_json(std::string(text), value)) check_parsed(value);
  check_raw_string(text);
  return 0;
}
