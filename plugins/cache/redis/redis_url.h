// REDIS_URL: parsing, checking and printing without the password.
//
//   redis://[[user]:password@]host[:port][/db]
//
// The user is optional (Redis 6 ACLs; without it AUTH uses the legacy
// single password). Percent-escapes (%40 for '@') are decoded in the user and
// password. IPv6 hosts go in brackets: redis://[::1]:6379/0. rediss:// (TLS)
// is recognised only to be refused with a clear reason: Debian 12's hiredis
// 0.14 has no TLS support (hiredis_ssl arrived in 1.0).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eltrix::cache_redis {

inline constexpr int kDefaultPort = 6379;

struct RedisUrl {
  std::string host;
  int port = kDefaultPort;
  std::int64_t db = 0;
  std::string user;  ///< empty: AUTH with the password alone
  std::optional<std::string> password;

  /// "host:port db N" (never the password), for logs, errors and /health.
  [[nodiscard]] std::string describe() const;
  /// The URL with the password replaced by "***".
  [[nodiscard]] std::string redacted() const;
};

/// Parses a URL; on failure returns nullopt and sets `why` to what was wrong
/// and what was expected. Neither `why` nor anything else here ever contains
/// the password.
std::optional<RedisUrl> parse_redis_url(std::string_view text, std::string& why);

}  // namespace eltrix::cache_redis
