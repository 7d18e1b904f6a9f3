#include "client/admin_register.h"

#include "accounts/account_service.h"
#include "accounts/device_service.h"
#include "client/login.h"
#include "client/rate_limit_impl.h"
#include "config/client_keys.h"
#include "config/config.h"
#include "crypto/secret.h"
#include "crypto/tokens.h"
#include "log/log.h"

namespace eltrix::client {
namespace {

const log::Logger& logger() {
  static const log::Logger instance("admin-register");
  return instance;
}

constexpr const char* kPath = "/_synapse/admin/v1/register";

/// The configured secret; throws the "disabled" error when there is none.
std::string shared_secret(const Context& ctx) {
  std::string secret = ctx.config.get_string(config::keys::kRegistrationSharedSecret);
  if (secret.empty()) {
    throw http::MatrixError(400, "M_UNKNOWN", "Shared secret registration is not enabled");
  }
  return secret;
}

/// body[field] as a string of at most 512 bytes without NUL (NUL separates
/// the MAC's fields, so allowing it would let one field pose as two).
std::string mac_field(const nlohmann::json& body, const char* field, const char* invalid) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) {
    throw http::MatrixError(400, "M_BAD_JSON", std::string(field) + " must be specified");
  }
  if (!it->is_string()) throw http::MatrixError(400, "M_UNKNOWN", invalid);
  std::string value = it->get<std::string>();
  if (value.size() > 512 || value.find('\0') != std::string::npos) {
    throw http::MatrixError(400, "M_UNKNOWN", invalid);
  }
  return value;
}

http::Response get_nonce(Context& ctx, http::Request& req) {
  (void)shared_secret(ctx);
  // Each GET writes a row, so it counts against the registration limit.
  if (auto limited = rate_limited(ctx, RateLimitedAction::register_account, client_address(req))) {
    return *limited;
  }
  const std::string nonce = ctx.accounts.new_registration_nonce();
  return http::Response::json(200, nlohmann::json{{"nonce", nonce}});
}

http::Response post_register(Context& ctx, http::Request& req) {
  const std::string secret = shared_secret(ctx);
  const nlohmann::json& body = req.json();
  const std::string nonce = mac_field(body, "nonce", "Invalid nonce");
  // Used up before anything can fail: a nonce buys exactly one attempt, so
  // a wrong MAC cannot be retried against it.
  if (!ctx.accounts.consume_registration_nonce(nonce))
    throw http::MatrixError(400, "M_UNKNOWN", "unrecognised nonce");

  const std::string username = mac_field(body, "username", "Invalid username");
  std::string password = mac_field(body, "password", "Invalid password");
  const auto admin_it = body.find("admin");
  bool admin = false;
  if (admin_it != body.end() && !admin_it->is_null()) {
    if (!admin_it->is_boolean())
      throw http::MatrixError(400, "M_BAD_JSON", "admin must be a boolean");
    admin = admin_it->get<bool>();
  }
  if (auto type = body.find("user_type"); type != body.end() && !type->is_null()) {
    throw http::MatrixError(400, "M_UNKNOWN", "Invalid user type");
  }
  std::optional<std::string> displayname;
  if (auto it = body.find("displayname"); it != body.end() && !it->is_null()) {
    if (!it->is_string())
      throw http::MatrixError(400, "M_BAD_JSON", "displayname must be a string");
    displayname = it->get<std::string>();
  }
  auto mac_it = body.find("mac");
  if (mac_it == body.end() || !mac_it->is_string()) {
    throw http::MatrixError(400, "M_BAD_JSON", "mac must be specified");
  }
  // The MAC covers the username as sent, before it is lower-cased.
  const std::string expected =
      crypto::shared_secret_registration_mac(secret, nonce, username, password, admin);
  if (!crypto::secret_equal(expected, mac_it->get<std::string>())) {
    logger().warn("shared-secret registration refused: HMAC incorrect",
                  {{"ip", client_address(req)}});
    throw http::MatrixError(403, "M_FORBIDDEN", "HMAC incorrect");
  }

  const std::string localpart = ctx.accounts.localpart_for(username);
  const std::string user_id = ctx.accounts.create(
      {.localpart = localpart, .password = password, .admin = admin, .displayname = displayname});
  crypto::wipe(password);
  logger().info("registered with the shared secret",
                {{"user_id", user_id}, {"admin", admin ? "true" : "false"}});

  auto issued = ctx.devices.log_in({.user_id = user_id, .ip = client_address(req)});
  return http::Response::json(200, login_response(user_id, ctx.server_name, issued));
}

}  // namespace

void add_admin_register_routes(http::Router& router, Context& ctx) {
  // Authenticated by the shared secret's HMAC, not an access token: this is
  // how the first admin is made.
  router.add("GET", kPath, [&ctx](http::Request& req) { return get_nonce(ctx, req); },
             {.auth = http::Auth::none});
  router.add("POST", kPath, [&ctx](http::Request& req) { return post_register(ctx, req); },
             {.body = http::BodyMode::json, .auth = http::Auth::none});
}

}  // namespace eltrix::client
