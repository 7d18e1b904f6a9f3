#include "client/auth_impl.h"

#include "client/rate_limit_impl.h"
#include "client/username.h"
#include "config/client_keys.h"
#include "config/config.h"
#include "config/core_keys.h"
#include "crypto/tokens.h"
#include "log/log.h"
#include "storage/accounts.h"
#include "storage/database.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace eltrix::client {
namespace {

const log::Logger& logger() {
  static const log::Logger instance("auth");
  return instance;
}

http::MatrixError unknown_token(bool soft_logout) {
  // soft_logout true tells the client it may log in again on the same device
  // and keep its keys (an expired token); false means the session is gone.
  return http::MatrixError(401, "M_UNKNOWN_TOKEN",
                           soft_logout ? "Access token has expired" : "Unrecognised access token")
      .with("soft_logout", soft_logout);
}

std::string encode(const storage::TokenOwner& owner) {
  nlohmann::json value = {{"u", owner.user_id}, {"d", owner.device_id}, {"a", owner.admin}};
  value["e"] = owner.expires_ts ? nlohmann::json(*owner.expires_ts) : nlohmann::json(nullptr);
  return value.dump();
}

std::optional<storage::TokenOwner> decode(const std::string& text) {
  // A value this code did not write (or an older format) is just a miss.
  auto value = nlohmann::json::parse(text, nullptr, false);
  if (!value.is_object()) return std::nullopt;
  auto u = value.find("u");
  auto d = value.find("d");
  auto a = value.find("a");
  auto e = value.find("e");
  if (u == value.end() || !u->is_string() || d == value.end() || !d->is_string() ||
      a == value.end() || !a->is_boolean() || e == value.end() ||
      !(e->is_null() || e->is_number_integer())) {
    return std::nullopt;
  }
  storage::TokenOwner owner{.user_id = u->get<std::string>(),
                            .device_id = d->get<std::string>(),
                            .admin = a->get<bool>(),
                            .expires_ts = std::nullopt};
  if (!e->is_null()) owner.expires_ts = e->get<std::int64_t>();
  return owner;
}

class TokenAuthenticator final : public Authenticator {
 public:
  TokenAuthenticator(const config::Config& config, storage::Database& db, plugin::Cache& cache,
                     bool cache_shared)
      : db_(db), cache_(cache) {
    cache_ttl_ = std::chrono::seconds(config.get_int(config::keys::kCacheTtl, 3600));
    if (!cache_shared) cache_ttl_ = std::min(cache_ttl_, kUnsharedTokenCacheTtl);
  }

  Requester authenticate(http::Request& request) override {
    auto token = access_token_of(request);
    if (!token) throw http::MatrixError(401, "M_MISSING_TOKEN", "Missing access token");
    const std::string hash = crypto::token_hash(*token);
    const std::string key = token_cache_key(hash);
    const std::int64_t now = storage::now_ms();

    std::optional<storage::TokenOwner> owner;
    if (auto cached = get_cached(key)) {
      if (*cached == kRevokedMarker) throw unknown_token(false);
      owner = decode(*cached);
    }
    if (!owner) {
      // The primary: a token created a moment ago through another node may
      // not be on a replica yet, and a logged-out one may still be there.
      owner = db_.read_latest(
          [&](storage::Transaction& tx) { return storage::find_access_token(tx, hash); });
      if (!owner) throw unknown_token(false);
      remember(hash, *owner, now);
    }
    if (owner->expires_ts && *owner->expires_ts <= now) throw unknown_token(true);
    note_last_seen(request, hash, *owner, now);
    // This request's reads must see this user's own last write (read-your-writes).
    storage::ReadScope::identify(owner->user_id);
    return Requester{
        .user_id = owner->user_id, .device_id = owner->device_id, .admin = owner->admin};
  }

 private:
  std::optional<std::string> get_cached(const std::string& key) {
    try {
      return cache_.get(key);
    } catch (...) {
      return std::nullopt;  // the database answers instead
    }
  }

  void remember(const std::string& hash, const storage::TokenOwner& owner, std::int64_t now) {
    auto ttl = cache_ttl_;
    if (owner.expires_ts) {
      const std::int64_t remaining_s = (*owner.expires_ts - now) / 1000;
      if (remaining_s < 1) return;  // about to expire: not worth caching
      ttl = std::min(ttl, std::chrono::seconds(remaining_s));
    }
    fill_token_cache(cache_, hash, encode(owner), ttl);
  }

  void note_last_seen(http::Request& request, const std::string& hash,
                      const storage::TokenOwner& owner, std::int64_t now) {
    try {
      // Only the first request of each interval (per token) writes; if the
      // cache cannot count, nothing is written rather than every request.
      if (cache_.increment("seen:" + hash, 1, kLastSeenInterval) != 1) return;
      const std::string ip = client_address(request);
      db_.write([&](storage::Transaction& tx) {
        storage::touch_device(tx, owner.user_id, owner.device_id, ip, now);
      });
    } catch (const std::exception& e) {
      // Bookkeeping only: never fail the request over it.
      logger().debug("could not record device last-seen", {{"error", e.what()}});
    } catch (...) {
    }
  }

  storage::Database& db_;
  plugin::Cache& cache_;
  std::chrono::seconds cache_ttl_{3600};
};

}  // namespace

std::unique_ptr<Authenticator> make_authenticator(const config::Config& config,
                                                  storage::Database& db, plugin::Cache& cache,
                                                  bool cache_shared) {
  return std::make_unique<TokenAuthenticator>(config, db, cache, cache_shared);
}

std::optional<std::string> access_token_of(http::Request& request) {
  if (auto header = request.header("Authorization")) {
    std::string_view value = *header;
    // The scheme is case-insensitive (RFC 9110).
    if (value.size() > 7 && to_lower_ascii(value.substr(0, 7)) == "bearer ") {
      value.remove_prefix(7);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
      if (!value.empty()) return std::string(value);
    }
  }
  if (auto query = request.query("access_token"); query && !query->empty()) return query;
  return std::nullopt;
}

std::string token_cache_key(std::string_view token_hash) {
  return "tok:" + std::string(token_hash);
}

std::string token_revocation_key(std::string_view token_hash) {
  return "tokrev:" + std::string(token_hash);
}

void forget_cached_tokens(plugin::Cache& cache, const std::vector<std::string>& token_hashes) {
  for (const auto& hash : token_hashes) {
    try {
      // The tombstone first, then the marker over the lookup: a fill that
      // wrote its stale value after our marker reads the tombstone after
      // that (see fill_token_cache), and one that read no tombstone wrote
      // before it, so before our marker too. TTL 0 is cache.ttl, the longest
      // any lookup is cached.
      cache.set(token_revocation_key(hash), kRevokedMarker, std::chrono::seconds(0));
      cache.set(token_cache_key(hash), kRevokedMarker, std::chrono::seconds(0));
    } catch (...) {
      logger().warn("could not mark a cached access token revoked; it expires with its TTL");
    }
  }
}

void fill_token_cache(plugin::Cache& cache, std::string_view token_hash, std::string_view value,
                      std::chrono::seconds ttl) {
  const std::string key = token_cache_key(token_hash);
  const std::string revocation = token_revocation_key(token_hash);
  try {
    // The database said the token exists, but a logout may have deleted it
    // since and already written its markers. Checking the marker before
    // writing (as this once did) leaves a window between the check and the
    // write in which the logout's marker is overwritten, reviving the token
    // for the whole TTL (an hour with Redis). So: write, then look for the
    // logout's tombstone, which no fill ever overwrites, and undo the write
    // if it is there. Linearisable on one shared cache: either this check
    // sees the tombstone, or the write came before the logout's marker.
    cache.set(key, value, ttl);
    if (cache.get(revocation).has_value()) {
      cache.set(key, kRevokedMarker, std::chrono::seconds(0));
    }
  } catch (...) {
    // Caching is an optimisation; the next request reads the database. (A
    // write that landed before the failure is no worse than the race the
    // tombstone closes: the logout's own marker still follows it.)
  }
}

crypto::PasswordPolicy password_policy(const config::Config& config) {
  return crypto::PasswordPolicy{
      .min_length = static_cast<std::size_t>(config.get_int(config::keys::kPasswordMinLength, 8)),
      .require_special = config.get_bool(config::keys::kPasswordRequireSpecial, false)};
}

void require_password_policy(const config::Config& config, std::string_view password) {
  if (auto why = crypto::check_password_policy(password_policy(config), password)) {
    throw http::MatrixError(400, "M_WEAK_PASSWORD", *why);
  }
}

IssuedToken issue_access_token(const config::Config& config, storage::Database& db,
                               plugin::Cache& cache, const std::string& user_id,
                               const std::optional<std::string>& device_id,
                               const std::optional<std::string>& display_name,
                               const std::optional<std::string>& ip) {
  IssuedToken issued;
  issued.access_token = crypto::generate_access_token();
  issued.device_id = device_id ? *device_id : crypto::generate_device_id();
  const std::int64_t lifetime_s = config.get_int(config::keys::kSessionLifetime, 604800);
  const std::int64_t now = storage::now_ms();
  storage::NewAccessToken token{.user_id = user_id,
                                .device_id = issued.device_id,
                                .initial_display_name = display_name,
                                .token_hash = crypto::token_hash(issued.access_token),
                                .expires_ts = std::nullopt,
                                .ip = ip};
  if (lifetime_s > 0) {
    issued.expires_in_ms = lifetime_s * 1000;
    token.expires_ts = now + *issued.expires_in_ms;
  }
  auto revoked =
      db.write([&](storage::Transaction& tx) { return storage::add_access_token(tx, token, now); });
  forget_cached_tokens(cache, revoked);
  return issued;
}

}  // namespace eltrix::client
