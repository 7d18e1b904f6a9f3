#include "accounts/token_cache.h"

#include "log/log.h"

namespace eltrix::accounts {
namespace {

const log::Logger& logger() {
  static const log::Logger instance("auth");
  return instance;
}

}  // namespace

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

}  // namespace eltrix::accounts
