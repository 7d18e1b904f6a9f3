#include "client/auth_impl.h"
#include "accounts/token_cache.h"
#include "client/route_auth.h"

#include "config/config.h"
#include "config/core_keys.h"
#include "crypto/tokens.h"
#include "memory_cache.h"
#include "metrics/registry.h"
#include "storage/accounts.h"
#include "storage/database.h"

#include <catch2/catch.hpp>

using namespace eltrix;

namespace {

// Requests can be neither copied nor moved, hence the pointer.
std::unique_ptr<http::Request> request_with(std::optional<std::string> authorization,
                                            std::optional<std::string> query_token) {
  http::Request::Pairs query;
  if (query_token) query.emplace_back("access_token", *query_token);
  auto req = std::make_unique<http::Request>("GET", "/_matrix/client/v3/account/whoami",
                                             http::Request::Pairs{}, query, "req-1");
  if (authorization) req->set_header("Authorization", *authorization);
  return req;
}

class PrimaryOnly final : public plugin::DbRouting {
 public:
  plugin::Health health() override { return {}; }
  std::size_t route(const plugin::RouteRequest&, std::span<const plugin::TargetState>) override {
    return 0;
  }
};

/// An authenticator whose database is never reached: every lookup the test
/// makes is answered by the cache (the Database connects lazily).
struct CachedOnly {
  config::Schema schema;
  config::Config config;
  metrics::Registry metrics;
  PrimaryOnly routing;
  storage::Database db;
  test::MemoryCache cache;
  std::unique_ptr<client::Authenticator> auth;

  CachedOnly() : config(make_config(schema)), db(unreachable_database(), routing, metrics) {
    cache.now_ms = storage::now_ms();
    auth = client::make_authenticator(config, db, cache, true);
  }

  static storage::DatabaseOptions unreachable_database() {
    storage::DatabaseOptions options;
    options.primary = {"primary", "postgresql://127.0.0.1:1/none"};
    return options;
  }

  static config::Config make_config(config::Schema& schema) {
    config::add_core_keys(schema);
    return config::Config::resolve(schema, {},
                                   [](const std::string&) { return std::optional<std::string>(); });
  }

  void cache_token(const std::string& token, const std::string& value) {
    const std::string hash = crypto::token_hash(token);
    cache.set(accounts::token_cache_key(hash), value, std::chrono::seconds(60));
    // Already seen this interval, so no last-seen write is attempted.
    cache.increment("seen:" + hash, 1, std::chrono::seconds(60));
  }
};

std::string error_code(const std::function<void()>& fn, nlohmann::json* body = nullptr) {
  try {
    fn();
  } catch (const http::MatrixError& e) {
    if (body != nullptr) *body = e.to_json();
    return e.errcode();
  }
  return "none";
}

}  // namespace

TEST_CASE("access tokens come from the Bearer header, else the query") {
  CHECK(client::access_token_of(*request_with("Bearer abc", std::nullopt)) == "abc");
  CHECK(client::access_token_of(*request_with("bearer  abc ", std::nullopt)) == "abc");
  CHECK(client::access_token_of(*request_with(std::nullopt, "q")) == "q");
  CHECK(client::access_token_of(*request_with("Bearer h", "q")) == "h");
  CHECK(client::access_token_of(*request_with("Basic xyz", std::nullopt)) == std::nullopt);
  CHECK(client::access_token_of(*request_with("Bearer ", std::nullopt)) == std::nullopt);
  CHECK(client::access_token_of(*request_with(std::nullopt, "")) == std::nullopt);
  CHECK(client::access_token_of(*request_with(std::nullopt, std::nullopt)) == std::nullopt);
}

TEST_CASE("cached token lookups authenticate without the database") {
  CachedOnly t;
  t.cache_token("elt_good", R"({"u":"@a:x","d":"DEV","a":true,"e":null})");
  auto req = request_with("Bearer elt_good", std::nullopt);
  auto requester = t.auth->authenticate(*req);
  CHECK(requester.user_id == "@a:x");
  CHECK(requester.device_id == "DEV");
  CHECK(requester.admin);
}

TEST_CASE("a cached token past its expiry is refused with soft_logout") {
  CachedOnly t;
  t.cache_token(
      "elt_old",
      nlohmann::json({{"u", "@a:x"}, {"d", "DEV"}, {"a", false}, {"e", storage::now_ms() - 1}})
          .dump());
  auto req = request_with("Bearer elt_old", std::nullopt);
  nlohmann::json body;
  CHECK(error_code([&] { t.auth->authenticate(*req); }, &body) == "M_UNKNOWN_TOKEN");
  CHECK(body["soft_logout"] == true);
}

TEST_CASE("no token at all is M_MISSING_TOKEN") {
  CachedOnly t;
  auto req = request_with(std::nullopt, std::nullopt);
  CHECK(error_code([&] { t.auth->authenticate(*req); }) == "M_MISSING_TOKEN");
}

TEST_CASE("forgotten tokens are refused at once, and stay refused") {
  CachedOnly t;
  t.cache_token("elt_gone", R"({"u":"@a:x","d":"DEV","a":false,"e":null})");
  t.cache_token("elt_kept", R"({"u":"@a:x","d":"KEPT","a":false,"e":null})");
  accounts::forget_cached_tokens(t.cache, {crypto::token_hash("elt_gone")});
  auto gone = request_with("Bearer elt_gone", std::nullopt);
  nlohmann::json body;
  CHECK(error_code([&] { t.auth->authenticate(*gone); }, &body) == "M_UNKNOWN_TOKEN");
  CHECK(body["soft_logout"] == false);
  auto kept = request_with("Bearer elt_kept", std::nullopt);
  CHECK(t.auth->authenticate(*kept).device_id == "KEPT");
  // The marker outlives any cached lookup (it uses the cache's default TTL).
  CHECK(t.cache.ttl_left("tok:" + crypto::token_hash("elt_gone")) == 3'600'000);
}

TEST_CASE("forgetting tokens survives a failing cache") {
  test::MemoryCache cache;
  cache.failing = true;
  CHECK_NOTHROW(accounts::forget_cached_tokens(cache, {"h2"}));
}

namespace {

/// Runs a route declared with `auth` for a request carrying `authorization`:
/// the errcode and status it was refused with ("none"/0 if not), whether
/// the handler ran and, if so, the caller it was handed.
struct RouteRun {
  std::string errcode = "none";
  int status = 0;
  bool handler_ran = false;
  std::optional<client::Requester> caller;
};

RouteRun run_route(CachedOnly& t, http::Auth auth, std::optional<std::string> authorization) {
  RouteRun run;
  const http::Handler handler = client::with_route_auth(auth, *t.auth, [&run](http::Request& req) {
    run.handler_ran = true;
    if (const auto* who = req.requester_if_any()) run.caller = *who;
    return http::Response::json(200, nlohmann::json::object());
  });
  auto req = request_with(std::move(authorization), std::nullopt);
  try {
    (void)handler(*req);
  } catch (const http::MatrixError& e) {
    run.errcode = e.errcode();
    run.status = e.status();
  }
  return run;
}

}  // namespace

TEST_CASE("route auth 'required' refuses a missing or unknown token before the handler",
          "[client][route_auth]") {
  CachedOnly t;
  t.cache_token("elt_user", R"({"u":"@u:x","d":"DEV","a":false,"e":null})");
  t.cache_token("elt_gone", R"({"u":"@u:x","d":"OLD","a":false,"e":null})");
  accounts::forget_cached_tokens(t.cache, {crypto::token_hash("elt_gone")});

  auto missing = run_route(t, http::Auth::required, std::nullopt);
  CHECK(missing.errcode == "M_MISSING_TOKEN");
  CHECK(missing.status == 401);
  CHECK_FALSE(missing.handler_ran);

  auto unknown = run_route(t, http::Auth::required, "Bearer elt_gone");
  CHECK(unknown.errcode == "M_UNKNOWN_TOKEN");
  CHECK(unknown.status == 401);
  CHECK_FALSE(unknown.handler_ran);

  auto valid = run_route(t, http::Auth::required, "Bearer elt_user");
  REQUIRE(valid.handler_ran);
  REQUIRE(valid.caller);
  CHECK(valid.caller->user_id == "@u:x");
  CHECK(valid.caller->device_id == "DEV");
}

TEST_CASE("route auth 'optional' lets anonymous callers in, but not a bad token",
          "[client][route_auth]") {
  CachedOnly t;
  t.cache_token("elt_user", R"({"u":"@u:x","d":"DEV","a":false,"e":null})");
  accounts::forget_cached_tokens(t.cache, {crypto::token_hash("elt_gone")});

  auto anonymous = run_route(t, http::Auth::optional, std::nullopt);
  CHECK(anonymous.handler_ran);
  CHECK_FALSE(anonymous.caller);

  auto known = run_route(t, http::Auth::optional, "Bearer elt_user");
  CHECK(known.handler_ran);
  REQUIRE(known.caller);
  CHECK(known.caller->user_id == "@u:x");

  auto revoked = run_route(t, http::Auth::optional, "Bearer elt_gone");
  CHECK(revoked.errcode == "M_UNKNOWN_TOKEN");
  CHECK_FALSE(revoked.handler_ran);
}

TEST_CASE("route auth 'admin' refuses a user who is not an admin with 403",
          "[client][route_auth]") {
  CachedOnly t;
  t.cache_token("elt_user", R"({"u":"@u:x","d":"DEV","a":false,"e":null})");
  t.cache_token("elt_admin", R"({"u":"@root:x","d":"ADM","a":true,"e":null})");

  auto user = run_route(t, http::Auth::admin, "Bearer elt_user");
  CHECK(user.errcode == "M_FORBIDDEN");
  CHECK(user.status == 403);
  CHECK_FALSE(user.handler_ran);

  CHECK(run_route(t, http::Auth::admin, std::nullopt).errcode == "M_MISSING_TOKEN");

  auto admin = run_route(t, http::Auth::admin, "Bearer elt_admin");
  REQUIRE(admin.handler_ran);
  REQUIRE(admin.caller);
  CHECK(admin.caller->admin);
}

TEST_CASE("route auth 'none' reads no token, and a handler asking for the caller is a bug",
          "[client][route_auth]") {
  CachedOnly t;
  // Even a revoked token is not looked at.
  accounts::forget_cached_tokens(t.cache, {crypto::token_hash("elt_gone")});
  auto run = run_route(t, http::Auth::none, "Bearer elt_gone");
  CHECK(run.handler_ran);
  CHECK_FALSE(run.caller);

  auto req = request_with(std::nullopt, std::nullopt);
  CHECK_THROWS_AS(req->requester(), std::logic_error);
}

TEST_CASE("routes authenticate unless they say otherwise", "[client][route_auth]") {
  CHECK(http::RouteOptions{}.auth == http::Auth::required);
}
