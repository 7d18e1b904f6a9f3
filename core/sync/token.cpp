#include "sync/token.h"

#include <charconv>

namespace eltrix::sync {

namespace {
template <typename T>
bool parse_number(std::string_view text, T& out) {
  if (text.empty() || text.size() > 19) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size() && out >= 0;
}
}  // namespace

std::string format_sync_token(const SyncToken& token) {
  return "s" + std::to_string(token.stream) + "_" + std::to_string(token.typing);
}

std::optional<SyncToken> parse_sync_token(std::string_view text) {
  if (text.size() < 2 || text.front() != 's') return std::nullopt;
  text.remove_prefix(1);
  SyncToken token;
  const auto sep = text.find('_');
  if (!parse_number(text.substr(0, sep), token.stream)) return std::nullopt;
  if (sep != std::string_view::npos && !parse_number(text.substr(sep + 1), token.typing)) {
    return std::nullopt;
  }
  return token;
}

std::string format_stream_token(std::int64_t stream) {
  return "s" + std::to_string(stream);
}

bool parse_stream_token(std::string_view text, std::int64_t& stream) {
  auto token = parse_sync_token(text);
  if (!token) return false;
  stream = token->stream;
  return true;
}

}  // namespace eltrix::sync
