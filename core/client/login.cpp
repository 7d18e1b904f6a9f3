#include "client/login.h"

#include "accounts/account_service.h"
#include "accounts/device_service.h"
#include "client/json_body.h"
#include "client/rate_limit_impl.h"
#include "client/uia.h"
#include "log/log.h"

namespace eltrix::client {
namespace {

const log::Logger& logger() {
  static const log::Logger instance("login");
  return instance;
}

constexpr std::string_view kPasswordLogin = "m.login.password";

}  // namespace

std::optional<std::string> requested_device_id(const nlohmann::json& body) {
  auto device_id = optional_string(body, "device_id");
  if (device_id && (device_id->empty() || device_id->size() > 255)) {
    throw http::MatrixError(400, "M_INVALID_PARAM", "'device_id' must be 1 to 255 bytes long");
  }
  if (device_id && device_id->find('\0') != std::string::npos) {
    throw http::MatrixError(400, "M_INVALID_PARAM", "'device_id' must not contain NUL (\\u0000)");
  }
  return device_id;
}

std::optional<std::string> requested_device_name(const nlohmann::json& body) {
  auto name = optional_string(body, "initial_device_display_name");
  if (name && name->size() > 512) {
    throw http::MatrixError(400, "M_INVALID_PARAM",
                            "'initial_device_display_name' is longer than 512 bytes");
  }
  return name;
}

nlohmann::json login_response(const std::string& user_id, const std::string& server_name,
                              const accounts::IssuedToken& issued) {
  nlohmann::json out = {{"user_id", user_id},
                        {"access_token", issued.access_token},
                        {"device_id", issued.device_id},
                        // Deprecated, but older clients still read it.
                        {"home_server", server_name}};
  if (issued.expires_in_ms) out["expires_in_ms"] = *issued.expires_in_ms;
  return out;
}

void add_login_routes(http::Router& router, Context& ctx) {
  router.add("GET", "/_matrix/client/v3/login",
             [](http::Request&) {
               return http::Response::json(
                   200,
                   nlohmann::json{{"flows", nlohmann::json::array({{{"type", kPasswordLogin}}})}});
             },
             {.auth = http::Auth::none});

  router.add("POST", "/_matrix/client/v3/login",
             [&ctx](http::Request& req) {
               const std::string ip = client_address(req);
               if (auto limited = rate_limited(ctx, RateLimitedAction::login, ip)) return *limited;

               const nlohmann::json& body = req.json();
               const std::string type = require_string(body, "type");
               if (type != kPasswordLogin) {
                 throw http::MatrixError(400, "M_UNKNOWN", "Bad login type.");
               }
               if (const auto* identifier = optional_object(body, "identifier");
                   identifier != nullptr && !identifier->contains("type") &&
                   identifier->contains("medium")) {
                 // The spec's example of a third-party login omits the type.
                 throw http::MatrixError(
                     400, "M_UNKNOWN", "Third-party identifiers are not supported by this server");
               }
               const auto user_id = identified_user(body, ctx.server_name);
               const std::string password = require_string(body, "password");
               const auto device_id = requested_device_id(body);
               const auto device_name = requested_device_name(body);

               // Per account as well as per address, before any hash: /login is
               // also the place to guess one account's password from many addresses.
               if (auto limited = password_attempt_limited(ctx, user_id, ip)) return *limited;
               // Throws for a wrong password or a deactivated account.
               const std::string who = ctx.accounts.check_login(user_id, password);
               auto issued = ctx.devices.log_in(
                   {.user_id = who, .device_id = device_id, .display_name = device_name, .ip = ip});
               logger().info("logged in", {{"user_id", who}, {"device_id", issued.device_id}});
               return http::Response::json(200, login_response(who, ctx.server_name, issued));
             },
             {.body = http::BodyMode::json, .auth = http::Auth::none});
}

}  // namespace eltrix::client
