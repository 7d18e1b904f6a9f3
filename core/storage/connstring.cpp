#include "storage/connstring.h"

#include "storage/error.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <memory>

namespace eltrix::storage {

namespace {

constexpr std::string_view kMask = "***";

bool is_space(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

bool equals_ci(std::string_view a, std::string_view b) {
  return a.size() == b.size() && starts_with_ci(a, b);
}

bool is_secret_key(std::string_view key) {
  return equals_ci(key, "password") || equals_ci(key, "sslpassword");
}

std::string redact_url(std::string_view url, std::size_t scheme_end) {
  std::string out(url.substr(0, scheme_end));
  std::string_view rest = url.substr(scheme_end);
  // The user info ends at the last '@' anywhere, so an unencoded '/', '@' or
  // '?' inside a password still counts as part of it (libpq accepts all
  // three). An '@' in a query value makes this over-redact, which is safe.
  const std::size_t at = rest.rfind('@');
  const std::size_t query = rest.find('?', at == std::string_view::npos ? 0 : at);
  std::string_view before_query = rest.substr(0, query);
  if (at != std::string_view::npos) {
    std::string_view userinfo = before_query.substr(0, at);
    const std::size_t colon = userinfo.find(':');
    if (colon != std::string_view::npos) {
      out.append(userinfo.substr(0, colon + 1));
      out.append(kMask);
    } else {
      out.append(userinfo);
    }
    out.append(before_query.substr(at));
  } else {
    out.append(before_query);
  }
  if (query == std::string_view::npos) return out;

  // Query parameters: password=... up to the next '&'.
  std::string_view params = rest.substr(query + 1);
  out.push_back('?');
  bool first = true;
  while (true) {
    const std::size_t amp = params.find('&');
    std::string_view param = params.substr(0, amp);
    if (!first) out.push_back('&');
    first = false;
    const std::size_t eq = param.find('=');
    if (eq != std::string_view::npos && is_secret_key(param.substr(0, eq))) {
      out.append(param.substr(0, eq + 1));
      out.append(kMask);
    } else {
      out.append(param);
    }
    if (amp == std::string_view::npos) break;
    params = params.substr(amp + 1);
  }
  return out;
}

std::string redact_keyword_value(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    // Whitespace between pairs.
    while (i < n && is_space(text[i])) out.push_back(text[i++]);
    if (i >= n) break;
    const std::size_t key_start = i;
    while (i < n && text[i] != '=' && !is_space(text[i])) ++i;
    std::string_view key = text.substr(key_start, i - key_start);
    out.append(key);
    while (i < n && is_space(text[i])) out.push_back(text[i++]);
    if (i >= n || text[i] != '=') continue;  // malformed: keep going
    out.push_back(text[i++]);
    while (i < n && is_space(text[i])) out.push_back(text[i++]);
    const std::size_t value_start = i;
    if (i < n && text[i] == '\'') {
      ++i;
      while (i < n && text[i] != '\'') {
        if (text[i] == '\\' && i + 1 < n) ++i;
        ++i;
      }
      if (i < n) ++i;  // closing quote
    } else {
      while (i < n && !is_space(text[i])) {
        if (text[i] == '\\' && i + 1 < n) ++i;
        ++i;
      }
    }
    if (is_secret_key(key)) {
      out.append(kMask);
    } else {
      out.append(text.substr(value_start, i - value_start));
    }
  }
  return out;
}

/// Whether libpq reads `redacted` with no secret other than the mask.
bool redacted_is_clean(const std::string& redacted) {
  char* errmsg = nullptr;
  PQconninfoOption* options = PQconninfoParse(redacted.c_str(), &errmsg);
  if (errmsg != nullptr) PQfreemem(errmsg);
  if (options == nullptr) return false;
  bool clean = true;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (is_secret_key(o->keyword) && o->val != nullptr && *o->val != '\0' &&
        std::string_view(o->val) != kMask) {
      clean = false;
    }
  }
  PQconninfoFree(options);
  return clean;
}

std::string quote_value(std::string_view value) {
  const bool needs_quotes = value.empty() || std::any_of(value.begin(), value.end(), [](char c) {
                              return is_space(c) || c == '\'' || c == '\\';
                            });
  if (!needs_quotes) return std::string(value);
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

}  // namespace

std::string redact_conninfo(std::string_view conninfo) {
  // Parse first, as libpq will: text that libpq cannot parse is shown as
  // nothing at all, since we cannot know which part of it is a password.
  const std::string text(conninfo);
  char* errmsg = nullptr;
  PQconninfoOption* options = PQconninfoParse(text.c_str(), &errmsg);
  if (errmsg != nullptr) PQfreemem(errmsg);
  if (options == nullptr) return "<unparseable connection string>";
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> guard(options, &PQconninfoFree);

  std::string redacted;
  for (std::string_view scheme :
       {std::string_view("postgresql://"), std::string_view("postgres://")}) {
    if (starts_with_ci(conninfo, scheme)) redacted = redact_url(conninfo, scheme.size());
  }
  if (redacted.empty()) redacted = redact_keyword_value(conninfo);

  // Check the result the way libpq would read it: every secret must now be
  // the mask. Otherwise (an encoding our text rules missed) show only the
  // non-secret fields.
  if (redacted_is_clean(redacted)) return redacted;
  std::string fallback;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || *o->val == '\0') continue;
    std::string_view key = o->keyword;
    if (key == "host" || key == "hostaddr" || key == "port" || key == "dbname" || key == "user") {
      fallback += (fallback.empty() ? "" : " ") + std::string(key) + "=" + quote_value(o->val);
    }
  }
  return fallback + " password=***";
}

ConnParams parse_conninfo(std::string_view conninfo) {
  const std::string text(conninfo);
  char* errmsg = nullptr;
  PQconninfoOption* options = PQconninfoParse(text.c_str(), &errmsg);
  if (options == nullptr) {
    std::string reason = errmsg != nullptr ? errmsg : "out of memory";
    if (errmsg != nullptr) PQfreemem(errmsg);
    while (!reason.empty() && is_space(reason.back())) reason.pop_back();
    // Most of libpq's reasons quote the offending token, which may be part of
    // the password; only those that quote an option name are passed on.
    const bool names_an_option = reason.rfind("invalid URI query parameter", 0) == 0 ||
                                 reason.rfind("invalid connection option", 0) == 0;
    throw StorageError(ErrorKind::config,
                       "invalid database connection string (" +
                           (names_an_option ? reason : std::string("libpq cannot parse it")) +
                           "); expected postgresql://user:password@host:port/dbname or "
                           "host=... dbname=...",
                       false);
  }
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> guard(options, &PQconninfoFree);
  ConnParams params;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr) params.emplace_back(o->keyword, o->val);
  }
  return params;
}

std::string to_keyword_value(const ConnParams& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    if (!out.empty()) out.push_back(' ');
    out.append(key);
    out.push_back('=');
    out.append(quote_value(value));
  }
  return out;
}

std::optional<std::string> find_param(const ConnParams& params, std::string_view key) {
  for (const auto& [k, v] : params) {
    if (k == key) return v;
  }
  return std::nullopt;
}

void set_param(ConnParams& params, std::string_view key, std::string value) {
  for (auto& [k, v] : params) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  params.emplace_back(std::string(key), std::move(value));
}

std::string build_connection_string(std::string_view conninfo, std::chrono::seconds connect_timeout,
                                    bool force_connect_timeout) {
  ConnParams params = parse_conninfo(conninfo);
  if (force_connect_timeout || !find_param(params, "connect_timeout")) {
    // libpq treats 1 as 2 and 0 as "wait forever".
    const auto seconds = std::max<std::chrono::seconds::rep>(connect_timeout.count(), 2);
    set_param(params, "connect_timeout", std::to_string(seconds));
  }
  // Without these, a connection whose peer silently vanished (a failed-over
  // primary's old address) blocks a query for TCP's ~15 minute retransmission
  // limit. With them it fails within about 20 s. The operator's own values win.
  const std::pair<const char*, const char*> kLiveness[] = {
      {"keepalives", "1"},       {"keepalives_idle", "10"},     {"keepalives_interval", "5"},
      {"keepalives_count", "2"}, {"tcp_user_timeout", "20000"},
  };
  for (const auto& [key, value] : kLiveness) {
    if (!find_param(params, key)) set_param(params, key, value);
  }
  return to_keyword_value(params);
}

std::string with_database(std::string_view conninfo, std::string_view dbname) {
  ConnParams params = parse_conninfo(conninfo);
  set_param(params, "dbname", std::string(dbname));
  return to_keyword_value(params);
}

std::optional<std::uint64_t> parse_lsn(std::string_view text) {
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 >= text.size())
    return std::nullopt;
  auto parse_half = [](std::string_view half) -> std::optional<std::uint64_t> {
    if (half.size() > 8) return std::nullopt;
    std::uint64_t value = 0;
    const auto [ptr, ec] = std::from_chars(half.data(), half.data() + half.size(), value, 16);
    if (ec != std::errc() || ptr != half.data() + half.size()) return std::nullopt;
    return value;
  };
  const auto hi = parse_half(text.substr(0, slash));
  const auto lo = parse_half(text.substr(slash + 1));
  if (!hi || !lo) return std::nullopt;
  return (*hi << 32U) | *lo;
}

std::string_view to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::connection: return "connection";
    case ErrorKind::timeout: return "timeout";
    case ErrorKind::pool_exhausted: return "pool_exhausted";
    case ErrorKind::serialization: return "serialization";
    case ErrorKind::constraint: return "constraint";
    case ErrorKind::query: return "query";
    case ErrorKind::unexpected_rows: return "unexpected_rows";
    case ErrorKind::in_doubt: return "in_doubt";
    case ErrorKind::migration: return "migration";
    case ErrorKind::config: return "config";
    case ErrorKind::stale_replica: return "stale_replica";
  }
  return "unknown";
}

}  // namespace eltrix::storage
