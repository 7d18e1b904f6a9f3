// User-Interactive Authentication (spec: "User-Interactive Authentication
// API") for /register, /account/password, DELETE /devices/{id} and
// /delete_devices.
//
// Sessions live in PostgreSQL (uia_sessions), so the stages of one flow may
// reach different nodes. A session is bound to its operation (method and
// path) and, for signed-in users, to the user; it lasts kUiaSessionLifetime.
//
// Stages offered here: m.login.dummy, m.login.registration_token (checked in
// constant time against registration.token) and m.login.password (the
// session user's password).
//
//   auto uia = check_uia(ctx, req.json(), {.operation = "POST /delete_devices",
//                                          .flows = {{"m.login.password"}},
//                                          .user_id = requester.user_id,
//                                          .client_address = client_address(req)});
//   if (uia.challenge) return *uia.challenge;  // 401: more stages needed
//   ... perform the operation ...
//   finish_uia(ctx, uia.session_id);
#pragma once

#include "client/context.h"
#include "http/router.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace eltrix::client {

inline constexpr std::string_view kStageDummy = "m.login.dummy";
inline constexpr std::string_view kStagePassword = "m.login.password";
inline constexpr std::string_view kStageRegistrationToken = "m.login.registration_token";

/// How long a client has to complete a flow.
inline constexpr std::chrono::minutes kUiaSessionLifetime{60};

struct UiaRequest {
  /// What the session authorises, e.g. "POST /register": a session started
  /// for one operation cannot complete another.
  std::string operation;
  /// The flows offered; each is a list of stage types to complete in order.
  std::vector<std::vector<std::string>> flows;
  /// The "params" object of the 401 response.
  nlohmann::json params = nlohmann::json::object();
  /// The signed-in user (whose password m.login.password checks); none for
  /// registration.
  std::optional<std::string> user_id;
  /// The client's address (client_address()): password stages are rate
  /// limited per user and per address (ratelimit.password_*).
  std::string client_address;
};

struct UiaResult {
  /// Set when the request must not proceed: the 401 response (flows, params,
  /// session, completed, and errcode/error after a failed stage), or 429
  /// M_LIMIT_EXCEEDED when too many passwords were tried (the session stays
  /// usable). Return it as is.
  std::optional<http::Response> challenge;
  /// The completed session (when challenge is empty), for finish_uia.
  std::string session_id;
};

/// The body the operation runs with. A request of a flow may carry only
/// `auth` (spec: the server remembers the first request): then, if its
/// session is one of `operation` and `user_id` and remembered a body, that
/// body with this request's `auth`. Otherwise `body` itself. Call it before
/// checking the body's parameters, and pass the result to check_uia.
nlohmann::json uia_request_body(Context& ctx, const nlohmann::json& body,
                                const std::string& operation,
                                const std::optional<std::string>& user_id);

/// Runs the user-interactive-authentication step of a request whose JSON body
/// is `body` (its "auth" member). Throws MatrixError for malformed auth, an
/// unknown or expired session (400 M_UNKNOWN) or a session of another
/// operation or user (403 M_FORBIDDEN). The body without `auth`, when it has
/// anything else, is remembered (sealed) in the session for later requests.
UiaResult check_uia(Context& ctx, const nlohmann::json& body, const UiaRequest& request);

/// Deletes the session once the operation succeeded, so it cannot authorise
/// a second one. Never throws (an undeleted session expires on its own).
void finish_uia(Context& ctx, const std::string& session_id);

/// The user a password-login identifier names: {"type": "m.id.user",
/// "user": "alice" | "@alice:server"} or, for older clients, a top-level
/// "user" next to it in `auth`. Throws 400 M_UNKNOWN for third-party and
/// phone identifiers (not supported), 400 M_BAD_JSON / M_MISSING_PARAM for
/// malformed ones. Nullopt when the identifier names no local user.
std::optional<std::string> identified_user(const nlohmann::json& auth,
                                           const std::string& server_name);

}  // namespace eltrix::client
