#include "matrix/signing_key_file.h"

#include "matrix/base64.h"

#include <fmt/format.h>

#include <sstream>
#include <stdexcept>
#include <vector>

namespace eltrix::matrix {

std::string format_signing_key_file(const SigningKey& key) {
  const std::string id = key.key_id();
  const auto colon = id.find(':');
  return fmt::format("{} {} {}\n", id.substr(0, colon), id.substr(colon + 1),
                     encode_base64_unpadded(key.seed()));
}

std::optional<SigningKey> parse_signing_key_file(std::string_view text, std::string& error) {
  std::size_t line_number = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const auto end = std::min(text.find('\n', pos), text.size());
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos || line[first] == '#') continue;

    std::vector<std::string> fields;
    std::istringstream in{std::string(line)};
    for (std::string field; in >> field;) fields.push_back(std::move(field));
    const std::string where = fmt::format("line {}", line_number);
    if (fields.size() != 3) {
      error = fmt::format("{}: found {} fields, expected 3: 'ed25519 <version> <base64 seed>'",
                          where, fields.size());
      return std::nullopt;
    }
    if (fields[0] != "ed25519") {
      error = fmt::format("{}: the algorithm is '{}', expected 'ed25519'", where, fields[0]);
      return std::nullopt;
    }
    auto seed = decode_base64(fields[2]);
    if (!seed) {
      error = fmt::format("{}: the seed is not Base64", where);
      return std::nullopt;
    }
    if (seed->size() != 32) {
      error = fmt::format("{}: the seed is {} bytes, expected 32", where, seed->size());
      return std::nullopt;
    }
    try {
      return SigningKey::from_seed(*seed, fields[1]);
    } catch (const std::invalid_argument&) {
      error = fmt::format("{}: the key version '{}' is not [a-zA-Z0-9_]+", where, fields[1]);
      return std::nullopt;
    }
  }
  error = "no key found: expected a line 'ed25519 <version> <base64 seed>'";
  return std::nullopt;
}

}  // namespace eltrix::matrix
