// Session management, login half (spec: "Login"): GET/POST
// /_matrix/client/v3/login with m.login.password.
#pragma once

#include "accounts/device_service.h"
#include "client/context.h"
#include "http/router.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace eltrix::client {

void add_login_routes(http::Router& router, Context& ctx);

/// body["device_id"] when given: 1 to 255 bytes, else 400 M_INVALID_PARAM.
std::optional<std::string> requested_device_id(const nlohmann::json& body);

/// body["initial_device_display_name"] when given: at most 512 bytes.
std::optional<std::string> requested_device_name(const nlohmann::json& body);

/// The body of a successful login or registration: user_id, access_token,
/// device_id, home_server and, for expiring tokens, expires_in_ms.
nlohmann::json login_response(const std::string& user_id, const std::string& server_name,
                              const accounts::IssuedToken& issued);

}  // namespace eltrix::client
