#include "client/account.h"

#include "client/auth.h"
#include "client/auth_impl.h"
#include "client/json_body.h"
#include "client/rate_limit_impl.h"
#include "client/uia.h"
#include "crypto/password.h"
#include "log/log.h"
#include "storage/accounts.h"
#include "storage/database.h"

namespace eltrix::client {
namespace {

const log::Logger& logger() {
  static const log::Logger instance("account");
  return instance;
}

http::Response change_password(Context& ctx, http::Request& req) {
  // Without an access token the spec would allow e-mail based flows, which
  // this server does not offer, so a token is required.
  const Requester& requester = req.requester();
  const nlohmann::json& body = req.json();
  const std::string new_password = require_string(body, "new_password");
  // Checked before authentication so the user does not type the old
  // password only to learn the new one is refused.
  require_password_policy(ctx.config, new_password);
  const bool logout_devices = optional_bool(body, "logout_devices").value_or(true);

  auto uia = check_uia(ctx, body,
                       {.operation = "POST /account/password",
                        .flows = {{std::string(kStagePassword)}},
                        .params = nlohmann::json::object(),
                        .user_id = requester.user_id,
                        .client_address = client_address(req)});
  if (uia.challenge) return *uia.challenge;

  const std::string hash = crypto::hash_password(new_password);  // no transaction open
  auto revoked = ctx.db.write([&](storage::Transaction& tx) {
    storage::set_password_hash(tx, requester.user_id, hash);
    // The device making the request keeps its token (the spec says it
    // SHOULD NOT be revoked); the others go, with their devices.
    std::vector<std::string> removed;
    if (logout_devices) {
      removed = storage::delete_all_devices(tx, requester.user_id, requester.device_id);
    }
    return removed;
  });
  forget_cached_tokens(ctx.cache, revoked);
  finish_uia(ctx, uia.session_id);
  logger().info("password changed", {{"user_id", requester.user_id},
                                     {"tokens_revoked", std::to_string(revoked.size())}});
  return http::Response::json(200, nlohmann::json::object());
}

}  // namespace

void add_account_routes(http::Router& router, Context& ctx) {
  router.add("GET", "/_matrix/client/v3/account/whoami", [](http::Request& req) {
    const Requester& requester = req.requester();
    return http::Response::json(200, nlohmann::json{{"user_id", requester.user_id},
                                                    {"device_id", requester.device_id},
                                                    {"is_guest", false}});
  });
  router.add("POST", "/_matrix/client/v3/account/password",
             [&ctx](http::Request& req) { return change_password(ctx, req); },
             {.body = http::BodyMode::json});
}

}  // namespace eltrix::client
