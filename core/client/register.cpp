#include "client/register.h"

#include "client/auth_impl.h"
#include "client/json_body.h"
#include "client/login.h"
#include "client/rate_limit_impl.h"
#include "client/uia.h"
#include "client/username.h"
#include "config/client_keys.h"
#include "config/config.h"
#include "crypto/password.h"
#include "crypto/secret.h"
#include "log/log.h"
#include "storage/accounts.h"
#include "storage/database.h"

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

/// The localpart a requested username maps to: lower-cased (user IDs have no
/// upper case), then checked against the grammar. Throws 400
/// M_INVALID_USERNAME.
std::string localpart_for(const Context& ctx, std::string_view username) {
  std::string localpart = to_lower_ascii(username);
  if (auto why = check_new_localpart(localpart, ctx.server_name)) {
    throw http::MatrixError(400, "M_INVALID_USERNAME", *why);
  }
  return localpart;
}

http::MatrixError user_in_use() {
  return {400, "M_USER_IN_USE", "User ID already taken."};
}

void require_available(Context& ctx, const std::string& user_id) {
  // The primary: a user registered a moment ago through another node may not
  // be on a replica yet.
  if (ctx.db.read_latest(
          [&](storage::Transaction& tx) { return storage::user_exists(tx, user_id); })) {
    throw user_in_use();
  }
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
  const nlohmann::json& body = req.json();
  std::optional<std::string> localpart;
  if (auto username = optional_string(body, "username")) {
    localpart = localpart_for(ctx, *username);
    require_available(ctx, make_user_id(*localpart, ctx.server_name));
  }
  const auto password = optional_string(body, "password");
  if (password) require_password_policy(ctx.config, *password);
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
  const std::string hash = crypto::hash_password(*password);  // no transaction open

  std::string user_id;
  for (int attempt = 0;; ++attempt) {
    const std::string candidate = localpart ? *localpart : generate_localpart();
    user_id = make_user_id(candidate, ctx.server_name);
    const bool created = ctx.db.write([&](storage::Transaction& tx) {
      return storage::create_user(
          tx, {.user_id = user_id, .password_hash = hash, .displayname = candidate},
          storage::now_ms());
    });
    if (created) break;
    // Taken meanwhile (the check above was before authentication), or a
    // generated localpart collided, which is astronomically rare.
    if (localpart || attempt >= 4) throw user_in_use();
  }
  finish_uia(ctx, uia.session_id);
  logger().info("registered", {{"user_id", user_id}, {"ip", ip}});

  if (inhibit_login) {
    return http::Response::json(
        200, nlohmann::json{{"user_id", user_id}, {"home_server", ctx.server_name}});
  }
  auto issued =
      issue_access_token(ctx.config, ctx.db, ctx.cache, user_id, device_id, device_name, ip);
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
  require_available(ctx, make_user_id(localpart_for(ctx, *username), ctx.server_name));
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
  const std::string expected = ctx.config.get_string(keys::kRegistrationToken);
  const bool valid = ctx.config.get_bool(keys::kRegistrationRequiresToken, false) &&
                     !expected.empty() && crypto::secret_equal(*token, expected);
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
