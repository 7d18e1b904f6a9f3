// The access-token cache race (issue 10, finding 12), forced on the real
// cache plugins: a logout that lands between a lookup's database read and its
// cache write must not leave the revoked token cached (for up to cache.ttl,
// an hour with Redis). A wrapper around the real cache runs the logout at the
// exact point of the interleaving.
#include "accounts/token_cache.h"
#include "contract/harness.h"
#include "contract/services/redis_server.h"

#include <functional>
#include <utility>

namespace eltrix::contract {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kHash =
    "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
constexpr std::string_view kOwner = R"({"u":"@alice:example.org","d":"DEV","a":false,"e":null})";

/// Forwards to a real cache; runs `before_fill_write` once, just before the
/// first write of a token lookup that is not a revocation marker, and
/// `before_tombstone_read` once, just before the first read of a tombstone.
class HookedCache final : public plugin::Cache {
 public:
  explicit HookedCache(plugin::Cache& inner) : inner_(inner) {}

  std::function<void()> before_fill_write;
  std::function<void()> before_tombstone_read;

  plugin::Health health() override { return inner_.health(); }
  std::optional<std::string> get(std::string_view key) override {
    if (before_tombstone_read && key.starts_with("tokrev:"))
      std::exchange(before_tombstone_read, {})();
    return inner_.get(key);
  }
  void set(std::string_view key, std::string_view value, std::chrono::seconds ttl) override {
    if (before_fill_write && key.starts_with("tok:") && value != accounts::kRevokedMarker) {
      std::exchange(before_fill_write, {})();
    }
    inner_.set(key, value, ttl);
  }
  bool erase(std::string_view key) override { return inner_.erase(key); }
  std::int64_t increment(std::string_view key, std::int64_t delta,
                         std::chrono::seconds ttl) override {
    return inner_.increment(key, delta, ttl);
  }

 private:
  plugin::Cache& inner_;
};

std::optional<std::string> cached(plugin::Cache& cache) {
  return cache.get(accounts::token_cache_key(kHash));
}

void run_token_race(const Factory<plugin::Cache>& make) {
  const std::optional<std::string> revoked{std::string(accounts::kRevokedMarker)};

  SECTION("a fill with no logout caches the lookup") {
    auto real = make({});
    HookedCache cache(*real);
    accounts::fill_token_cache(cache, kHash, kOwner, 60s);
    CHECK(cached(*real) == std::optional<std::string>(std::string(kOwner)));
  }

  SECTION("a logout after the database read, before the cache write") {
    // The window the old check-then-write left open: the fill had found no
    // marker, then the logout wrote its marker, then the fill overwrote it.
    auto real = make({});
    HookedCache cache(*real);
    cache.before_fill_write = [&] { accounts::forget_cached_tokens(*real, {std::string(kHash)}); };
    accounts::fill_token_cache(cache, kHash, kOwner, 60s);
    CHECK(cached(*real) == revoked);
  }

  SECTION("a logout between the cache write and the tombstone check") {
    auto real = make({});
    HookedCache cache(*real);
    cache.before_tombstone_read = [&] {
      accounts::forget_cached_tokens(*real, {std::string(kHash)});
    };
    accounts::fill_token_cache(cache, kHash, kOwner, 60s);
    CHECK(cached(*real) == revoked);
  }

  SECTION("a logout that finished before the fill began") {
    auto real = make({});
    accounts::forget_cached_tokens(*real, {std::string(kHash)});
    HookedCache cache(*real);
    accounts::fill_token_cache(cache, kHash, kOwner, 60s);
    CHECK(cached(*real) == revoked);
  }
}

}  // namespace

TEST_CASE("a racing logout is never undone by a token-cache fill: cache-local",
          "[contract][cache][token_race]") {
  run_token_race(file_factory<plugin::Cache>("cache-local"));
}

TEST_CASE("a racing logout is never undone by a token-cache fill: cache-redis",
          "[contract][cache][token_race]") {
  auto url = shared_test_redis_url();
  if (!url) return;
  auto make = file_factory<plugin::Cache>("cache-redis");
  run_token_race([&](ConfigValues values) {
    values["cache.redis.url"] = *url;
    values["cache.redis.key_prefix"] = unique_key_prefix("token-race");
    return make(std::move(values));
  });
}

}  // namespace eltrix::contract
