#include "redis_url.h"

#include <charconv>

namespace eltrix::cache_redis {
namespace {

constexpr std::string_view kExpected =
    "expected redis://[[user]:password@]host[:port][/db], for example "
    "redis://:secret@127.0.0.1:6379/0";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    int high = hex_value(text[i + 1]);
    int low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out += static_cast<char>((high << 4) | low);
    i += 2;
  }
  return out;
}

template <typename Int>
std::optional<Int> parse_decimal(std::string_view text) {
  if (text.empty()) return std::nullopt;
  Int out{};
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return out;
}

std::string host_for_url(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

}  // namespace

std::string RedisUrl::describe() const {
  return host_for_url(host) + ":" + std::to_string(port) + " db " + std::to_string(db);
}

std::string RedisUrl::redacted() const {
  std::string out = "redis://";
  if (!user.empty() || password) {
    out += user;
    if (password) out += ":***";
    out += "@";
  }
  out += host_for_url(host) + ":" + std::to_string(port) + "/" + std::to_string(db);
  return out;
}

std::optional<RedisUrl> parse_redis_url(std::string_view text, std::string& why) {
  constexpr std::string_view kScheme = "redis://";
  if (text.starts_with("rediss://")) {
    why =
        "rediss:// (TLS) is not supported: Debian 12's hiredis 0.14 has no TLS. Use redis:// on "
        "a trusted network, or a local TLS tunnel (stunnel, spiped) to the Redis server";
    return std::nullopt;
  }
  if (!text.starts_with(kScheme)) {
    auto colon = text.find("://");
    why = colon == std::string_view::npos
              ? std::string(kExpected)
              : "unsupported scheme '" + std::string(text.substr(0, colon)) + "'; " +
                    std::string(kExpected);
    return std::nullopt;
  }
  std::string_view rest = text.substr(kScheme.size());
  RedisUrl url;

  // Userinfo ends at the last '@' before the path: a password may contain '@'
  // when escaped, and an unescaped one is still unambiguous this way.
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority.remove_prefix(at + 1);
    auto colon = userinfo.find(':');
    auto user = percent_decode(userinfo.substr(0, colon));
    if (!user) {
      why = "bad percent-escape in the user name; " + std::string(kExpected);
      return std::nullopt;
    }
    url.user = *user;
    if (colon != std::string_view::npos) {
      auto password = percent_decode(userinfo.substr(colon + 1));
      if (!password) {
        why = "bad percent-escape in the password (escape '%' as %25); " + std::string(kExpected);
        return std::nullopt;
      }
      url.password = *password;
    } else if (!url.user.empty()) {
      // redis://secret@host is how some tools write a bare password.
      url.password = url.user;
      url.user.clear();
    }
    if (url.password && url.password->empty()) url.password.reset();
  }

  std::string_view port_text;
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    if (close == std::string_view::npos) {
      why = "unclosed '[' in the IPv6 host; " + std::string(kExpected);
      return std::nullopt;
    }
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        why = "unexpected text after the IPv6 host; " + std::string(kExpected);
        return std::nullopt;
      }
      port_text = after.substr(1);
      if (port_text.empty()) port_text = "-";
    }
  } else {
    auto colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) port_text = "-";
    }
  }
  if (url.host.empty()) {
    why = "no host; " + std::string(kExpected);
    return std::nullopt;
  }
  if (!port_text.empty()) {
    auto port = parse_decimal<int>(port_text);
    if (!port || *port < 1 || *port > 65535) {
      why = "port '" + std::string(port_text) + "' is not a number from 1 to 65535";
      return std::nullopt;
    }
    url.port = *port;
  }

  if (!path.empty()) {
    path.remove_prefix(1);  // the '/'
    if (auto query = path.find_first_of("?#"); query != std::string_view::npos) {
      why =
          "query parameters are not supported (set timeouts and the pool size with their own "
          "keys); " +
          std::string(kExpected);
      return std::nullopt;
    }
    if (!path.empty()) {
      auto db = parse_decimal<std::int64_t>(path);
      if (!db || *db < 0 || *db > INT32_MAX) {
        why = "database '" + std::string(path) + "' is not a number from 0 to 2147483647";
        return std::nullopt;
      }
      url.db = *db;
    }
  }
  return url;
}

}  // namespace eltrix::cache_redis
