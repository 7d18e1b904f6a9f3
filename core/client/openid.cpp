#include "client/openid.h"

#include "client/json_body.h"
#include "client/user_data_common.h"
#include "crypto/tokens.h"
#include "storage/accounts.h"
#include "storage/openid_tokens.h"

namespace eltrix::client {

namespace {

/// How long a token proves identity: one hour, as Synapse hands out.
constexpr std::int64_t kTokenLifetimeSeconds = 3600;
/// Live tokens one user may hold: widgets ask for one now and then; a
/// client asking in a loop would otherwise grow the table without bound.
constexpr std::int64_t kMaxLiveTokens = 50;

http::Response request_token(Context& ctx, http::Request& req) {
  const Requester& who = req.requester();
  const std::string user_id =
      require_self(who, req.path_param("userId"), "You can only request tokens for yourself");
  const std::string token = crypto::generate_access_token();
  const std::int64_t now = storage::now_ms();
  ctx.db.write([&](storage::Transaction& tx) {
    if (storage::count_openid_tokens(tx, user_id, now) >= kMaxLiveTokens) {
      throw http::MatrixError(429, "M_LIMIT_EXCEEDED",
                              "Too many OpenID tokens; they expire after an hour");
    }
    storage::create_openid_token(tx, crypto::token_hash(token), user_id,
                                 now + kTokenLifetimeSeconds * 1000, now);
  });
  return http::Response::json(200, nlohmann::json{{"access_token", token},
                                                  {"token_type", "Bearer"},
                                                  {"matrix_server_name", ctx.server_name},
                                                  {"expires_in", kTokenLifetimeSeconds}});
}

http::Response userinfo(Context& ctx, http::Request& req) {
  auto token = req.query("access_token");
  if (!token || token->empty() || token->size() > 256) {
    throw http::MatrixError(401, "M_UNKNOWN_TOKEN", "Access token unknown or expired");
  }
  auto user = ctx.db.read([&](storage::Transaction& tx) {
    auto found = storage::openid_token_user(tx, crypto::token_hash(*token), storage::now_ms());
    // Made a moment ago through another node: a replica may lag.
    if (!found) tx.need_primary();
    return found;
  });
  if (!user) throw http::MatrixError(401, "M_UNKNOWN_TOKEN", "Access token unknown or expired");
  return http::Response::json(200, nlohmann::json{{"sub", *user}});
}

}  // namespace

void add_openid_routes(http::Router& router, Context& ctx) {
  router.add("POST", "/_matrix/client/v3/user/{userId}/openid/request_token",
             [&ctx](http::Request& req) { return request_token(ctx, req); },
             {.body = http::BodyMode::json});
  router.add("GET", "/_matrix/federation/v1/openid/userinfo",
             [&ctx](http::Request& req) { return userinfo(ctx, req); }, {.auth = http::Auth::none});
}

}  // namespace eltrix::client
