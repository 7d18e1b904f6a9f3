#include "client/uia.h"

#include "accounts/account_service.h"
#include "accounts/username.h"
#include "client/json_body.h"
#include "client/rate_limit_impl.h"
#include "client/registration_token.h"
#include "config/client_keys.h"
#include "config/config.h"
#include "config/core_keys.h"
#include "crypto/password.h"
#include "crypto/secret.h"
#include "crypto/tokens.h"
#include "log/log.h"
#include "matrix/base64.h"
#include "storage/accounts.h"
#include "storage/database.h"

#include <algorithm>

namespace eltrix::client {
namespace {

const log::Logger& logger() {
  static const log::Logger instance("uia");
  return instance;
}

std::int64_t session_lifetime_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(kUiaSessionLifetime).count();
}

http::Response challenge(const UiaRequest& request, const std::string& session_id,
                         const std::vector<std::string>& completed,
                         const std::optional<std::pair<std::string, std::string>>& error = {}) {
  nlohmann::json flows = nlohmann::json::array();
  for (const auto& flow : request.flows) flows.push_back({{"stages", flow}});
  nlohmann::json body = {{"flows", flows}, {"params", request.params}, {"session", session_id}};
  // "completed" only once something is: the first 401 of a flow has none.
  if (!completed.empty()) body["completed"] = completed;
  // errcode/error only after a failed attempt: clients show them to the user.
  if (error) {
    body["errcode"] = error->first;
    body["error"] = error->second;
  }
  return http::Response::json(401, body);
}

bool offered(const UiaRequest& request, std::string_view stage) {
  return std::any_of(request.flows.begin(), request.flows.end(), [&](const auto& flow) {
    return std::find(flow.begin(), flow.end(), stage) != flow.end();
  });
}

/// Whether the completed stages finish some flow. A flow's stages must be
/// done in order, so its stages have to appear in `completed` in that order.
bool flow_complete(const UiaRequest& request, const std::vector<std::string>& completed) {
  for (const auto& flow : request.flows) {
    auto at = completed.begin();
    bool ok = true;
    for (const auto& stage : flow) {
      at = std::find(at, completed.end(), stage);
      if (at == completed.end()) {
        ok = false;
        break;
      }
      ++at;
    }
    if (ok) return true;
  }
  return false;
}

/// Whether `stage` may be attempted now: it is the next stage of a flow whose
/// earlier stages are complete.
bool stage_is_next(const UiaRequest& request, const std::vector<std::string>& completed,
                   std::string_view stage) {
  for (const auto& flow : request.flows) {
    std::size_t done = 0;
    while (done < flow.size() &&
           std::find(completed.begin(), completed.end(), flow[done]) != completed.end()) {
      ++done;
    }
    if (done < flow.size() && flow[done] == stage) return true;
  }
  return false;
}

/// Sealing keys are derived for this purpose only (crypto::seal).
constexpr std::string_view kBodyPurpose = "eltrix uia request body";
/// Larger bodies are not remembered: the client then has to send them again
/// (every UIA endpoint's body is far smaller).
constexpr std::size_t kMaxRememberedBody = 64 * 1024;

/// The body without "auth", sealed and base64-encoded; none when there is
/// nothing besides "auth" or it is too large to keep.
std::optional<std::string> sealed_body(Context& ctx, const nlohmann::json& body) {
  if (!body.is_object()) return std::nullopt;
  nlohmann::json rest = body;
  rest.erase("auth");
  if (rest.empty()) return std::nullopt;
  std::string text = rest.dump();
  if (text.size() > kMaxRememberedBody) return std::nullopt;
  std::string sealed =
      crypto::seal(ctx.config.get_string(config::keys::kSecretKey), kBodyPurpose, text);
  crypto::wipe(text);  // it may hold a password
  return matrix::encode_base64_unpadded(sealed);
}

std::optional<nlohmann::json> opened_body(Context& ctx, const std::string& stored) {
  auto sealed = matrix::decode_base64(stored);
  if (!sealed) return std::nullopt;
  auto text =
      crypto::open_sealed(ctx.config.get_string(config::keys::kSecretKey), kBodyPurpose, *sealed);
  // Sealed under another secret key (it was changed): as if nothing was kept.
  if (!text) return std::nullopt;
  auto parsed = nlohmann::json::parse(*text, nullptr, false);
  crypto::wipe(*text);
  if (!parsed.is_object()) return std::nullopt;
  return parsed;
}

std::string new_session(Context& ctx, const UiaRequest& request,
                        const nlohmann::json& body = nlohmann::json::object()) {
  storage::UiaSession session{.session_id = crypto::generate_session_id(),
                              .operation = request.operation,
                              .user_id = request.user_id,
                              .completed = {},
                              .params_json = request.params.dump(),
                              .created_ts = storage::now_ms(),
                              .sealed_body = sealed_body(ctx, body)};
  ctx.db.write([&](storage::Transaction& tx) {
    // Expired sessions are swept here, where new ones are made, so the table
    // stays as small as the number of flows in progress (indexed scan).
    storage::expire_uia_sessions(tx, session.created_ts - session_lifetime_ms());
    storage::create_uia_session(tx, session);
  });
  return session.session_id;
}

/// Checks one stage; returns the error (errcode, message) when it fails.
std::optional<std::pair<std::string, std::string>> attempt_stage(Context& ctx,
                                                                 const UiaRequest& request,
                                                                 std::string_view stage,
                                                                 const nlohmann::json& auth) {
  if (stage == kStageDummy) return std::nullopt;
  if (stage == kStageRegistrationToken) {
    const auto token = optional_string(auth, "token");
    // Checked here, spent by the registration itself (client/register.cpp),
    // which is the same request: the flow has this one stage.
    if (!token || !registration_token_valid(ctx, *token)) {
      return std::pair<std::string, std::string>{"M_FORBIDDEN", "Invalid registration token"};
    }
    return std::nullopt;
  }
  if (stage == kStagePassword) {
    if (!request.user_id) {
      return std::pair<std::string, std::string>{"M_FORBIDDEN", "No account to authenticate"};
    }
    // Without an identifier the password is checked for the signed-in user;
    // with one, it must name that same user.
    std::optional<std::string> user = request.user_id;
    if (auth.contains("identifier") || auth.contains("user"))
      user = identified_user(auth, ctx.server_name);
    const auto password = optional_string(auth, "password");
    if (!user || *user != *request.user_id || !password) {
      if (password) crypto::burn_verification_time(*password);
      return std::pair<std::string, std::string>{"M_FORBIDDEN", "Invalid username or password"};
    }
    // The account service counts no attempts: password_attempt_limited did.
    auto verified = ctx.accounts.verify_password(*user, *password);
    if (!verified || verified->deactivated) {
      return std::pair<std::string, std::string>{"M_FORBIDDEN", "Invalid username or password"};
    }
    return std::nullopt;
  }
  return std::pair<std::string, std::string>{"M_UNRECOGNIZED", "Unsupported authentication type"};
}

}  // namespace

nlohmann::json uia_request_body(Context& ctx, const nlohmann::json& body,
                                const std::string& operation,
                                const std::optional<std::string>& user_id) {
  // Only a request that carries nothing but "auth" takes the remembered
  // body: one that sends parameters means them (Synapse does the same).
  if (!body.is_object() || body.size() != 1) return body;
  const nlohmann::json* auth = optional_object(body, "auth");
  if (auth == nullptr) return body;
  auto session_id = optional_string(*auth, "session");
  if (!session_id) return body;
  auto session = ctx.db.read([&](storage::Transaction& tx) {
    auto found =
        storage::find_uia_session(tx, *session_id, storage::now_ms() - session_lifetime_ms());
    // The first request of the flow may have reached another node a moment
    // ago: a replica that has not replayed it must not make this request
    // run without its parameters.
    if (!found || !found->sealed_body) tx.need_primary();
    return found;
  });
  // Another operation's or user's session: check_uia refuses it; nothing of
  // its body may leak into this request meanwhile.
  if (!session || session->operation != operation || session->user_id != user_id ||
      !session->sealed_body) {
    return body;
  }
  auto remembered = opened_body(ctx, *session->sealed_body);
  if (!remembered) return body;
  (*remembered)["auth"] = *auth;
  return *remembered;
}

UiaResult check_uia(Context& ctx, const nlohmann::json& body, const UiaRequest& request) {
  const nlohmann::json* auth = optional_object(body, "auth");
  if (auth == nullptr) return {challenge(request, new_session(ctx, request, body), {}), {}};

  const auto type = optional_string(*auth, "type");
  auto session_id = optional_string(*auth, "session");
  std::vector<std::string> completed;
  if (session_id) {
    auto session = ctx.db.write([&](storage::Transaction& tx) {
      return storage::find_uia_session(tx, *session_id, storage::now_ms() - session_lifetime_ms());
    });
    if (!session) {
      throw http::MatrixError(400, "M_UNKNOWN", "Unknown or expired authentication session");
    }
    if (session->operation != request.operation) {
      throw http::MatrixError(
          403, "M_FORBIDDEN",
          "Requested operation has changed during the user-interactive authentication session");
    }
    if (session->user_id != request.user_id) {
      throw http::MatrixError(403, "M_FORBIDDEN",
                              "The authentication session belongs to another user");
    }
    completed = std::move(session->completed);
    // The latest parameters are the ones the flow authorises; unchanged
    // (uia_request_body restored them) they are not written again.
    nlohmann::json rest = body;
    rest.erase("auth");
    if (!rest.empty()) {
      const auto remembered =
          session->sealed_body ? opened_body(ctx, *session->sealed_body) : std::nullopt;
      if (!remembered || *remembered != rest) {
        // A body too large to keep clears the old one: a later request of
        // `auth` alone must not run with parameters the client replaced.
        auto sealed = sealed_body(ctx, body);
        ctx.db.write(
            [&](storage::Transaction& tx) { storage::set_uia_body(tx, *session_id, sealed); });
      }
    }
  } else {
    // Auth without a session (clients that know the flow send it at once):
    // start one so that a failure can still be answered with a session.
    session_id = new_session(ctx, request, body);
  }

  if (type) {
    const bool already = std::find(completed.begin(), completed.end(), *type) != completed.end();
    if (!already) {
      if (!offered(request, *type) || !stage_is_next(request, completed, *type)) {
        return {challenge(request, *session_id, completed,
                          std::pair<std::string, std::string>{
                              "M_FORBIDDEN", "This authentication type is not expected now"}),
                {}};
      }
      // Each password attempt costs an Argon2id hash, and whoever holds a
      // stolen access token could otherwise guess the password here at
      // full speed: count it (per user and per address) before hashing.
      if (*type == kStagePassword) {
        if (auto limited = password_attempt_limited(ctx, request.user_id, request.client_address)) {
          logger().info("password attempts over the limit",
                        {{"operation", request.operation}, {"ip", request.client_address}});
          return {std::move(limited), {}};
        }
      }
      if (auto failure = attempt_stage(ctx, request, *type, *auth)) {
        logger().info("authentication stage failed",
                      {{"stage", *type}, {"operation", request.operation}});
        return {challenge(request, *session_id, completed, failure), {}};
      }
      ctx.db.write(
          [&](storage::Transaction& tx) { storage::add_uia_stage(tx, *session_id, *type); });
      completed.push_back(*type);
    }
  }

  if (!flow_complete(request, completed)) return {challenge(request, *session_id, completed), {}};
  return {std::nullopt, *session_id};
}

void finish_uia(Context& ctx, const std::string& session_id) {
  try {
    ctx.db.write([&](storage::Transaction& tx) { storage::delete_uia_session(tx, session_id); });
  } catch (const std::exception& e) {
    logger().warn("could not delete a finished authentication session", {{"error", e.what()}});
  }
}

std::optional<std::string> identified_user(const nlohmann::json& auth,
                                           const std::string& server_name) {
  if (const nlohmann::json* identifier = optional_object(auth, "identifier")) {
    const std::string type = require_string(*identifier, "type");
    if (type == "m.id.user") {
      return accounts::local_user_id(require_string(*identifier, "user"), server_name);
    }
    if (type == "m.id.thirdparty" || type == "m.id.phone") {
      throw http::MatrixError(400, "M_UNKNOWN",
                              "Third-party identifiers are not supported by this server");
    }
    throw http::MatrixError(400, "M_UNKNOWN", "Unknown identifier type");
  }
  // Deprecated forms from before "identifier" existed.
  if (auto user = optional_string(auth, "user")) return accounts::local_user_id(*user, server_name);
  if (auth.contains("medium") || auth.contains("address")) {
    throw http::MatrixError(400, "M_UNKNOWN",
                            "Third-party identifiers are not supported by this server");
  }
  throw http::MatrixError(400, "M_MISSING_PARAM", "'identifier' is required");
}

}  // namespace eltrix::client
