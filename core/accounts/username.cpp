#include "accounts/username.h"

#include "crypto/tokens.h"

#include <algorithm>

namespace eltrix::accounts {

bool valid_localpart(std::string_view localpart) {
  if (localpart.empty()) return false;
  return std::all_of(localpart.begin(), localpart.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '=' ||
           c == '-' || c == '/' || c == '+';
  });
}

std::optional<std::string> check_new_localpart(std::string_view localpart,
                                               std::string_view server_name) {
  if (localpart.empty()) return "The username must not be empty";
  if (!valid_localpart(localpart)) {
    return "The username may only contain a-z, 0-9, '.', '_', '=', '-', '/' and '+'";
  }
  if (localpart.front() == '_') return "The username may not begin with '_'";
  if (make_user_id(localpart, server_name).size() > kMaxUserIdBytes) {
    return "The username is too long: a user ID is at most 255 bytes";
  }
  return std::nullopt;
}

std::string make_user_id(std::string_view localpart, std::string_view server_name) {
  std::string out;
  out.reserve(localpart.size() + server_name.size() + 2);
  out += '@';
  out += localpart;
  out += ':';
  out += server_name;
  return out;
}

std::string to_lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::optional<std::string> local_user_id(std::string_view user, std::string_view server_name) {
  std::string_view localpart = user;
  if (!user.empty() && user.front() == '@') {
    const auto colon = user.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    // Server names are case-insensitive (DNS names); the localpart is
    // lowered below like a bare one.
    if (to_lower_ascii(user.substr(colon + 1)) != to_lower_ascii(server_name)) return std::nullopt;
    localpart = user.substr(1, colon - 1);
  }
  const std::string lowered = to_lower_ascii(localpart);
  if (!valid_localpart(lowered)) return std::nullopt;
  return make_user_id(lowered, server_name);
}

std::string generate_localpart() {
  // Starts with a letter so it never looks like a reserved or numeric ID.
  return "u" + crypto::random_string(15, "abcdefghijklmnopqrstuvwxyz0123456789");
}

}  // namespace eltrix::accounts
