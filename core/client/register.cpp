#include "client/register.h"

#include "accounts/account_service.h"
#include "accounts/device_service.h"
#include "client/json_body.h"
#include "client/login.h"
#include "client/rate_limit_impl.h"
#include "client/registration_token.h"
#include "client/uia.h"
#include "config/client_keys.h"
#include "config/config.h"
#include "crypto/secret.h"
#include "log/log.h"

namespace eltrix::client {
namespace {

namespace keys = config::keys;

const log::Logger& logger() {
  static const log::Logger instance("register");
  return instance;
}

bool registration_enabled(const Context& ctx) {
  return ctx.config.get_bool(keys::kRegistrationEnabled, false);
}

http::Response post_register(Context& ctx, http::Request& req) {
  const std::string kind = req.query("kind").value_or("user");
  if (kind == "guest") {
    throw http::MatrixError(403, "M_GUEST_ACCESS_FORBIDDEN", "Guest access is not enabled");
  }
  if (kind != "user") {
    throw http::MatrixError(400, "M_INVALID_PARAM", "'kind' must be 'user' or 'guest'");
  }
  const std::string ip = client_address(req);
  if (auto limited = rate_limited(ctx, RateLimitedAction::register_account, ip)) return *limited;
  if (!registration_enabled(ctx))
    throw http::MatrixError(403, "M_FORBIDDEN", "Registration is disabled");

  // The spec wants username and password problems reported before
  // user-interactive authentication starts, so the user can fix them first.
  // A later stage may carry only "auth": the first request's body then.
  const nlohmann::json body = uia_request_body(ctx, req.json(), "POST /register", std::nullopt);
  std::optional<std::string> localpart;
  if (auto username = optional_string(body, "username")) {
    localpart = ctx.accounts.localpart_for(*username);
    ctx.accounts.require_available(ctx.accounts.user_id_of(*localpart));
  }
  const auto password = optional_string(body, "password");
  if (password) ctx.accounts.require_password_policy(*password);
  const auto device_id = requested_device_id(body);
  const auto device_name = requested_device_name(body);
  const bool inhibit_login = optional_bool(body, "inhibit_login").value_or(false);

  const bool requires_token = ctx.config.get_bool(keys::kRegistrationRequiresToken, false);
  auto uia =
      check_uia(ctx, body,
                {.operation = "POST /register",
                 .flows = {{std::string(requires_token ? kStageRegistrationToken : kStageDummy)}},
                 .params = nlohmann::json::object(),
                 .user_id = std::nullopt,
                 .client_address = {}});
  if (uia.challenge) return *uia.challenge;

  // Clients may leave the password out of the first, probing request, but
  // an account without one could never log in.
  if (!password) throw http::MatrixError(400, "M_MISSING_PARAM", "'password' is required");
  // The token stage passed in this very request (the flow has that one
  // stage), so its token is in this body: one use is spent now, atomically,
  // and given back if the account cannot be created.
  std::optional<std::string> spent_token;
  if (requires_token) {
    const auto* auth = optional_object(body, "auth");
    auto token = auth ? optional_string(*auth, "token") : std::nullopt;
    if (!token || !spend_registration_token(ctx, *token)) {
      throw http::MatrixError(403, "M_FORBIDDEN", "Invalid registration token");
    }
    spent_token = token;
  }
  std::string user_id;
  try {
    user_id = ctx.accounts.create({.localpart = localpart, .password = *password});
  } catch (...) {
    if (spent_token) refund_registration_token(ctx, *spent_token);
    throw;
  }
  finish_uia(ctx, uia.session_id);
  logger().info("registered", {{"user_id", user_id}, {"ip", ip}});

  if (inhibit_login) {
    return http::Response::json(
        200, nlohmann::json{{"user_id", user_id}, {"home_server", ctx.server_name}});
  }
  auto issued = ctx.devices.log_in(
      {.user_id = user_id, .device_id = device_id, .display_name = device_name, .ip = ip});
  return http::Response::json(200, login_response(user_id, ctx.server_name, issued));
}

http::Response get_available(Context& ctx, http::Request& req) {
  if (auto limited = rate_limited(ctx, RateLimitedAction::register_account, client_address(req))) {
    return *limited;
  }
  if (!registration_enabled(ctx))
    throw http::MatrixError(403, "M_FORBIDDEN", "Registration is disabled");
  auto username = req.query("username");
  if (!username) throw http::MatrixError(400, "M_MISSING_PARAM", "'username' is required");
  ctx.accounts.require_available(ctx.accounts.user_id_of(ctx.accounts.localpart_for(*username)));
  return http::Response::json(200, nlohmann::json{{"available", true}});
}

http::Response get_token_validity(Context& ctx, http::Request& req) {
  // Rate-limited as the spec asks: otherwise it is a token-guessing oracle.
  if (auto limited = rate_limited(ctx, RateLimitedAction::register_account, client_address(req))) {
    return *limited;
  }
  if (!registration_enabled(ctx)) {
    throw http::MatrixError(403, "M_FORBIDDEN", "Registration is not enabled on this homeserver.");
  }
  auto token = req.query("token");
  if (!token) throw http::MatrixError(400, "M_MISSING_PARAM", "'token' is required");
  const bool valid = ctx.config.get_bool(keys::kRegistrationRequiresToken, false) &&
                     registration_token_valid(ctx, *token);
  return http::Response::json(200, nlohmann::json{{"valid", valid}});
}

}  // namespace

void add_register_routes(http::Router& router, Context& ctx) {
  router.add("POST", "/_matrix/client/v3/register",
             [&ctx](http::Request& req) { return post_register(ctx, req); },
             {.body = http::BodyMode::json, .auth = http::Auth::none});
  router.add("GET", "/_matrix/client/v3/register/available",
             [&ctx](http::Request& req) { return get_available(ctx, req); },
             {.auth = http::Auth::none});
  router.add("GET", "/_matrix/client/v1/register/m.login.registration_token/validity",
             [&ctx](http::Request& req) { return get_token_validity(ctx, req); },
             {.auth = http::Auth::none});
}

}  // namespace eltrix::client
