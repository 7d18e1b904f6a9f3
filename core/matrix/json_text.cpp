#include "matrix/json_text.h"

namespace eltrix::matrix {

bool parse_json(const std::string& text, nlohmann::json& out) {
  if (text.empty()) return false;
  // nlohmann's parser recurses per nesting level; refuse absurd depth before
  // parsing so a body of 1 MB of '[' cannot exhaust the stack.
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    // JSON text never holds a raw NUL (in a string it is written \u0000),
    // and nlohmann's parser takes one for the end of the input: "{}\0junk"
    // would be read as {} (found by fuzz/json_body).
    if (c == '\0') return false;
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  out = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return !out.is_discarded();
}

}  // namespace eltrix::matrix
