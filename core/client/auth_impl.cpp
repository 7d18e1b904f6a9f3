#include "client/auth_impl.h"

#include "accounts/token_cache.h"
#include "accounts/username.h"
#include "client/rate_limit_impl.h"
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
    const std::string key = accounts::token_cache_key(hash);
    const std::int64_t now = storage::now_ms();

    std::optional<storage::TokenOwner> owner;
    if (auto cached = get_cached(key)) {
      if (*cached == accounts::kRevokedMarker) throw unknown_token(false);
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
    accounts::fill_token_cache(cache_, hash, encode(owner), ttl);
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
    if (value.size() > 7 && accounts::to_lower_ascii(value.substr(0, 7)) == "bearer ") {
      value.remove_prefix(7);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
      if (!value.empty()) return std::string(value);
    }
  }
  if (auto query = request.query("access_token"); query && !query->empty()) return query;
  return std::nullopt;
}

}  // namespace eltrix::client
