#include "client/account.h"

#include "accounts/account_service.h"
#include "client/auth.h"
#include "client/json_body.h"
#include "client/rate_limit_impl.h"
#include "client/uia.h"

namespace eltrix::client {
namespace {

http::Response change_password(Context& ctx, http::Request& req) {
  // Without an access token the spec would allow e-mail based flows, which
  // this server does not offer, so a token is required.
  const Requester& requester = req.requester();
  const nlohmann::json body =
      uia_request_body(ctx, req.json(), "POST /account/password", requester.user_id);
  const std::string new_password = require_string(body, "new_password");
  // Checked before authentication so the user does not type the old
  // password only to learn the new one is refused.
  ctx.accounts.require_password_policy(new_password);
  const bool logout_devices = optional_bool(body, "logout_devices").value_or(true);

  auto uia = check_uia(ctx, body,
                       {.operation = "POST /account/password",
                        .flows = {{std::string(kStagePassword)}},
                        .params = nlohmann::json::object(),
                        .user_id = requester.user_id,
                        .client_address = client_address(req)});
  if (uia.challenge) return *uia.challenge;

  ctx.accounts.change_password({.user_id = requester.user_id,
                                .new_password = new_password,
                                .log_out_other_devices = logout_devices,
                                .requesting_device = requester.device_id});
  finish_uia(ctx, uia.session_id);
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
