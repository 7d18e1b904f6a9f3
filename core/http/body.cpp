#include "http/body.h"

namespace eltrix::http {

bool parse_json(const std::string& text, nlohmann::json& out) {
  if (text.empty()) return false;
  // nlohmann's parser recurses per nesting level; refuse absurd depth before
  // parsing so a body of 1 MB of '[' cannot exhaust the stack.
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
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

/// Reads and drops up to `max` bytes; true if the stream ended within them.
bool discard(std::istream& in, std::size_t max) {
  char buf[8192];
  std::size_t total = 0;
  while (total <= max) {
    in.read(buf, sizeof(buf));
    const auto got = static_cast<std::size_t>(in.gcount());
    total += got;
    if (got < sizeof(buf)) return in.eof() && total <= max;
  }
  return false;
}

}  // namespace eltrix::http
