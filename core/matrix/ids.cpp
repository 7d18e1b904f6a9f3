#include "matrix/ids.h"

#include "crypto/sodium.h"
#include "matrix/utf8.h"

#include <arpa/inet.h>
#include <sodium.h>

#include <algorithm>
#include <charconv>

namespace eltrix::matrix {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_valid_port(std::string_view port) {
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), is_digit)) {
    return false;
  }
  unsigned value = 0;
  std::from_chars(port.data(), port.data() + port.size(), value);
  return value <= 65535;
}

bool is_valid_ipv4(std::string_view host) {
  int parts = 0;
  while (true) {
    const auto dot = host.find('.');
    const auto part = host.substr(0, dot);
    if (part.empty() || part.size() > 3 || !std::all_of(part.begin(), part.end(), is_digit)) {
      return false;
    }
    unsigned value = 0;
    std::from_chars(part.data(), part.data() + part.size(), value);
    if (value > 255) return false;
    ++parts;
    if (dot == std::string_view::npos) break;
    host.remove_prefix(dot + 1);
  }
  return parts == 4;
}

bool is_valid_ipv6(std::string_view literal) {
  if (literal.size() < 2 || literal.size() > 45) return false;
  for (const char c : literal) {
    const bool hex = is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex && c != ':' && c != '.') return false;
  }
  // The character-set grammar admits nonsense like "::::"; RFC 3513 section 2.2
  // (which the spec cites) is exactly what inet_pton accepts.
  const std::string text(literal);
  unsigned char addr[16];
  return inet_pton(AF_INET6, text.c_str(), addr) == 1;
}

bool is_valid_dns_name(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  // Resolvers treat all-numeric names (even "1234") as IPv4 addresses, so such
  // a name is only acceptable as a genuine dotted quad.
  if (std::all_of(host.begin(), host.end(), [](char c) { return is_digit(c) || c == '.'; })) {
    return is_valid_ipv4(host);
  }
  std::size_t label = 0;
  for (const char c : host) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
    } else if (is_digit(c) || is_alpha(c) || c == '-') {
      ++label;
    } else {
      return false;
    }
  }
  return label > 0;
}

/// Splits "<sigil>local:server", checking what user IDs, room IDs and aliases
/// share: the sigil, the length limit, UTF-8, no NUL in the local part and a
/// valid server name. The local part ends at the first ':' because it may not
/// contain one, while the server name may (a port or an IPv6 literal).
std::optional<std::pair<std::string_view, std::string_view>> split_id(std::string_view id,
                                                                      char sigil) {
  if (id.empty() || id.size() > kMaxIdentifierBytes || id.front() != sigil) return std::nullopt;
  const auto colon = id.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const auto local = id.substr(1, colon - 1);
  const auto server = id.substr(colon + 1);
  if (local.find('\0') != std::string_view::npos) return std::nullopt;
  if (!detail::is_valid_utf8(local) || !is_valid_server_name(server)) return std::nullopt;
  return std::pair{local, server};
}

}  // namespace

bool is_valid_server_name(std::string_view name) {
  std::string_view host = name;
  std::string_view port;
  bool has_port = false;
  if (!name.empty() && name.front() == '[') {
    const auto close = name.find(']');
    if (close == std::string_view::npos) return false;
    if (!is_valid_ipv6(name.substr(1, close - 1))) return false;
    const auto rest = name.substr(close + 1);
    if (rest.empty()) return true;
    if (rest.front() != ':') return false;
    return is_valid_port(rest.substr(1));
  }
  if (const auto colon = name.find(':'); colon != std::string_view::npos) {
    host = name.substr(0, colon);
    port = name.substr(colon + 1);
    has_port = true;
  }
  if (has_port && !is_valid_port(port)) return false;
  return is_valid_dns_name(host);
}

std::string UserId::str() const {
  std::string out;
  out.reserve(localpart.size() + server.size() + 2);
  out.push_back('@');
  out += localpart;
  out.push_back(':');
  out += server;
  return out;
}

std::optional<UserId> parse_user_id(std::string_view id) {
  // Historical localparts (any printable ASCII but ':') are accepted, as the
  // spec requires for IDs from other servers; is_valid_new_localpart() guards
  // registration. Empty ones are not: the grammar needs at least one character.
  const auto parts = split_id(id, '@');
  if (!parts || parts->first.empty()) return std::nullopt;
  return UserId{std::string(parts->first), std::string(parts->second)};
}

bool is_valid_new_localpart(std::string_view localpart) {
  if (localpart.empty()) return false;
  return std::all_of(localpart.begin(), localpart.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || is_digit(c) || c == '.' || c == '_' || c == '=' || c == '-' ||
           c == '/' || c == '+';
  });
}

bool is_compliant_localpart(std::string_view localpart) {
  if (localpart.empty()) return false;
  return std::all_of(localpart.begin(), localpart.end(),
                     [](char c) { return c >= 0x21 && c <= 0x7E && c != ':'; });
}

bool is_valid_room_id(std::string_view id) {
  const auto parts = split_id(id, '!');
  return parts && !parts->first.empty();
}

bool is_valid_event_id(std::string_view id) {
  return id.size() >= 2 && id.size() <= kMaxIdentifierBytes && id.front() == '$' &&
         id.find('\0') == std::string_view::npos && detail::is_valid_utf8(id);
}

bool is_valid_room_alias(std::string_view alias) {
  const auto parts = split_id(alias, '#');
  return parts && !parts->first.empty();
}

std::string server_of(std::string_view id) {
  const auto colon = id.find(':');
  if (colon == std::string_view::npos) return {};
  return std::string(id.substr(colon + 1));
}

std::string random_string(std::size_t n) {
  static constexpr std::string_view kLetters =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  crypto::detail::ensure_sodium();
  std::string out(n, '\0');
  for (auto& c : out) {
    // randombytes_uniform avoids the modulo bias of reducing a random byte.
    c = kLetters[randombytes_uniform(static_cast<std::uint32_t>(kLetters.size()))];
  }
  return out;
}

std::string make_room_id(std::string_view server_name) {
  std::string id = "!" + random_string(18);
  id.push_back(':');
  id += server_name;
  return id;
}

}  // namespace eltrix::matrix
