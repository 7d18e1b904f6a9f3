#include "media/media_id.h"

#include "config/core_keys.h"
#include "crypto/tokens.h"

#include <fmt/format.h>

namespace eltrix::media {

namespace {
constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
}  // namespace

std::string generate_media_id() {
  return crypto::random_string(kMediaIdLength, kAlphabet);
}

bool is_valid_media_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxMediaIdLength) return false;
  for (char c : id) {
    if (!is_alnum(c) && c != '_' && c != '-') return false;
  }
  return true;
}

bool is_issued_media_id(std::string_view id) {
  if (id.size() != kMediaIdLength) return false;
  for (char c : id) {
    if (!is_alnum(c)) return false;
  }
  return true;
}

bool is_valid_server_name(std::string_view server) {
  return !config::check_server_name(server).has_value();
}

std::string server_key_segment(std::string_view server) {
  std::string out;
  out.reserve(server.size() + 8);
  for (char c : server) {
    if (is_alnum(c) || c == '.' || c == '-') {
      out += c;
    } else {
      out += fmt::format("_{:02x}", static_cast<unsigned char>(c));
    }
  }
  return out;
}

std::string media_key(std::string_view server, std::string_view media_id) {
  return server_key_segment(server) + "/" + std::string(media_id);
}

std::string thumbnail_key(std::string_view server, std::string_view media_id, int width, int height,
                          std::string_view method) {
  return fmt::format("thumbnails/{}/{}/{}x{}-{}", server_key_segment(server), media_id, width,
                     height, method);
}

}  // namespace eltrix::media
