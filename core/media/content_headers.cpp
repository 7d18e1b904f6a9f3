#include "media/content_headers.h"

#include "matrix/utf8.h"

#include <array>
#include <cstdint>

namespace eltrix::media {

namespace {

// RFC 9110 §5.6.2 tchar.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~': return true;
    default: return false;
  }
}

bool is_token(std::string_view s) {
  if (s.empty() || s.size() > 127) return false;
  for (char c : s) {
    if (!is_tchar(c)) return false;
  }
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 5987 attr-char: ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "."
// / "^" / "_" / "`" / "|" / "~".
bool is_attr_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '&':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~': return true;
    default: return false;
  }
}

}  // namespace

std::optional<std::string> normalize_content_type(std::string_view value) {
  std::string_view rest = value;
  const auto semi = rest.find(';');
  std::string_view essence = trim(rest.substr(0, semi));
  const auto slash = essence.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view type = essence.substr(0, slash);
  const std::string_view subtype = essence.substr(slash + 1);
  if (!is_token(type) || !is_token(subtype)) return std::nullopt;
  std::string out = lower(type) + "/" + lower(subtype);
  if (semi == std::string_view::npos) return out;
  // Parameters: keep only a well-formed charset (text needs it to render).
  std::string_view params = rest.substr(semi + 1);
  while (!params.empty()) {
    const auto next = params.find(';');
    std::string_view param = trim(params.substr(0, next));
    params = next == std::string_view::npos ? std::string_view{} : params.substr(next + 1);
    const auto eq = param.find('=');
    if (eq == std::string_view::npos) continue;
    if (lower(trim(param.substr(0, eq))) != "charset") continue;
    std::string_view charset = trim(param.substr(eq + 1));
    if (charset.size() >= 2 && charset.front() == '"' && charset.back() == '"') {
      charset = charset.substr(1, charset.size() - 2);
    }
    if (is_token(charset)) out += "; charset=" + lower(charset);
    break;
  }
  return out;
}

bool is_inline_safe(std::string_view content_type) {
  // Compare the essence only ("text/plain; charset=utf-8" is text/plain).
  const std::string_view essence = content_type.substr(0, content_type.find(';'));
  static constexpr std::array<std::string_view, 20> kSafe = {
      "image/png",       "image/jpeg",  "image/gif", "image/webp", "image/avif",
      "image/apng",      "image/bmp",   "video/mp4", "video/webm", "video/ogg",
      "video/quicktime", "audio/mpeg",  "audio/mp4", "audio/ogg",  "audio/webm",
      "audio/wav",       "audio/x-wav", "audio/aac", "audio/flac", "text/plain",
  };
  for (auto safe : kSafe) {
    if (essence == safe) return true;
  }
  return false;
}

bool is_acceptable_file_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxFileNameBytes) return false;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F || c == '/' || c == '\\') return false;
  }
  return matrix::detail::is_valid_utf8(name);
}

std::string content_disposition(std::string_view content_type, std::string_view file_name) {
  std::string out = is_inline_safe(content_type) ? "inline" : "attachment";
  if (file_name.empty()) return out;
  std::string fallback;
  fallback.reserve(file_name.size());
  for (char c : file_name) {
    const auto u = static_cast<unsigned char>(c);
    fallback += (u < 0x20 || u >= 0x7F || c == '"' || c == '\\') ? '_' : c;
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  encoded.reserve(file_name.size() * 3);
  for (char c : file_name) {
    if (is_attr_char(c)) {
      encoded += c;
    } else {
      const auto u = static_cast<unsigned char>(c);
      encoded += '%';
      encoded += kHex[u >> 4U];
      encoded += kHex[u & 0xFU];
    }
  }
  out += "; filename=\"" + fallback + "\"; filename*=UTF-8''" + encoded;
  return out;
}

const std::vector<std::pair<std::string, std::string>>& security_headers() {
  static const std::vector<std::pair<std::string, std::string>> headers = {
      // Even if a browser opens the bytes as a document, nothing in it runs
      // and it can load nothing; media elements and <img> are unaffected.
      {"Content-Security-Policy",
       "sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf; "
       "style-src 'unsafe-inline'; media-src 'self'; object-src 'self';"},
      {"X-Content-Type-Options", "nosniff"},
      // Web clients on other origins embed media (spec v1.11 asks for it).
      {"Cross-Origin-Resource-Policy", "cross-origin"},
  };
  return headers;
}

}  // namespace eltrix::media
