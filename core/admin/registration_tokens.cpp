// Registration tokens (Synapse's /_synapse/admin/v1/registration_tokens):
// create, list, get, update, delete. /register spends them
// (client/registration_token.h).
#include "storage/registration_tokens.h"
#include "admin/areas.h"
#include "admin/params.h"
#include "crypto/tokens.h"
#include "storage/accounts.h"

namespace eltrix::admin {
namespace {

// Synapse's alphabet and bounds for tokens.
constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-";
constexpr std::size_t kMaxTokenLength = 64;
constexpr std::int64_t kMaxUses = 2'147'483'647;  // the column is an integer

nlohmann::json token_json(const storage::RegistrationToken& t) {
  auto or_null = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  return {{"token", t.token},
          {"uses_allowed", or_null(t.uses_allowed)},
          {"pending", t.pending},
          {"completed", t.completed},
          {"expiry_time", or_null(t.expiry_time)}};
}

/// uses_allowed: absent (nullopt), null (inner nullopt: unlimited) or an
/// integer >= 0.
std::optional<std::optional<std::int64_t>> uses_allowed_of(const nlohmann::json& body) {
  auto it = body.find("uses_allowed");
  if (it == body.end()) return std::nullopt;
  if (it->is_null()) return std::optional<std::int64_t>();
  if (!it->is_number_integer() || it->get<std::int64_t>() < 0 ||
      it->get<std::int64_t>() > kMaxUses) {
    throw invalid_param("uses_allowed must be a non-negative integer or null");
  }
  return std::optional<std::int64_t>(it->get<std::int64_t>());
}

/// expiry_time: absent, null (never) or milliseconds since the epoch, not
/// in the past.
std::optional<std::optional<std::int64_t>> expiry_of(const nlohmann::json& body) {
  auto it = body.find("expiry_time");
  if (it == body.end()) return std::nullopt;
  if (it->is_null()) return std::optional<std::int64_t>();
  if (!it->is_number_integer()) throw invalid_param("expiry_time must be an integer or null");
  if (it->get<std::int64_t>() < storage::now_ms()) {
    throw invalid_param("expiry_time must not be in the past");
  }
  return std::optional<std::int64_t>(it->get<std::int64_t>());
}

std::string token_param(const http::Request& req) {
  std::string token(req.path_param("token"));
  if (token.size() > kMaxTokenLength) throw not_found("No such registration token: " + token);
  return token;
}

http::Response list(Context& ctx, http::Request& req) {
  auto valid = query_bool(req, "valid");
  auto tokens = ctx.db.read([&](storage::Transaction& tx) {
    return storage::list_registration_tokens(tx, valid, storage::now_ms());
  });
  nlohmann::json out = nlohmann::json::array();
  for (const auto& t : tokens) out.push_back(token_json(t));
  return http::Response::json(200, nlohmann::json{{"registration_tokens", out}});
}

storage::RegistrationToken require_token(Context& ctx, const std::string& token) {
  auto found = ctx.db.write(
      [&](storage::Transaction& tx) { return storage::find_registration_token(tx, token); });
  if (!found) throw not_found("No such registration token: " + token);
  return *found;
}

http::Response create(Context& ctx, http::Request& req) {
  const nlohmann::json body = body_object(req);
  storage::RegistrationToken token;
  token.uses_allowed = uses_allowed_of(body).value_or(std::nullopt);
  token.expiry_time = expiry_of(body).value_or(std::nullopt);
  auto given = body_string(body, "token", kMaxTokenLength);
  if (given) {
    if (given->empty() || given->find_first_not_of(kAlphabet) != std::string::npos) {
      throw invalid_param(
          "token must consist only of characters matched by the regex [A-Za-z0-9._~-]");
    }
    if (body.contains("length")) throw invalid_param("length and token are mutually exclusive");
    token.token = *given;
  } else {
    const auto length = body_int(body, "length").value_or(16);
    if (length <= 0 || length > static_cast<std::int64_t>(kMaxTokenLength)) {
      throw invalid_param("length must be an integer between 1 and 64");
    }
    token.token = crypto::random_string(static_cast<std::size_t>(length), kAlphabet);
  }
  const bool created = ctx.db.write(
      [&](storage::Transaction& tx) { return storage::create_registration_token(tx, token); });
  if (!created) {
    // A random token that collides is astronomically rare at 16 characters;
    // a chosen one that exists is the caller's mistake.
    throw invalid_param("Token already in use: " + token.token);
  }
  return http::Response::json(200, token_json(require_token(ctx, token.token)));
}

http::Response update(Context& ctx, http::Request& req) {
  const std::string token = token_param(req);
  const nlohmann::json body = body_object(req);
  storage::RegistrationTokenUpdate change{.uses_allowed = uses_allowed_of(body),
                                          .expiry_time = expiry_of(body)};
  const bool found = ctx.db.write([&](storage::Transaction& tx) {
    return storage::update_registration_token(tx, token, change);
  });
  if (!found) throw not_found("No such registration token: " + token);
  return http::Response::json(200, token_json(require_token(ctx, token)));
}

http::Response remove(Context& ctx, http::Request& req) {
  const std::string token = token_param(req);
  const bool found = ctx.db.write(
      [&](storage::Transaction& tx) { return storage::delete_registration_token(tx, token); });
  if (!found) throw not_found("No such registration token: " + token);
  return http::Response::json(200, nlohmann::json::object());
}

}  // namespace

void add_registration_token_routes(http::Router& router, Context& ctx) {
  const AreaRoutes on(router, ctx);
  using enum http::BodyMode;
  constexpr const char* base = "/_synapse/admin/v1/registration_tokens";
  on("GET", base, list, none);
  on("POST", "/_synapse/admin/v1/registration_tokens/new", create, raw);
  on(
      "GET", "/_synapse/admin/v1/registration_tokens/{token}",
      [](Context& c, http::Request& r) {
        return http::Response::json(200, token_json(require_token(c, token_param(r))));
      },
      none);
  on("PUT", "/_synapse/admin/v1/registration_tokens/{token}", update, raw);
  on("DELETE", "/_synapse/admin/v1/registration_tokens/{token}", remove, none);
}

}  // namespace eltrix::admin
