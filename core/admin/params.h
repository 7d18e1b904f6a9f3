// Reading the admin API's inputs the way Synapse does: query parameters as
// strings ("true"/"false", decimal integers), path parameters naming users
// and rooms, and optional JSON bodies. Every failure is a 400 with Synapse's
// errcode (M_INVALID_PARAM, M_BAD_JSON, M_NOT_JSON).
#pragma once

#include "admin/context.h"
#include "http/router.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eltrix::admin {

/// Largest page any list answers (a bigger `limit` is cut to it): a page is
/// built in memory.
inline constexpr std::int64_t kMaxPageSize = 1000;

/// Query `name` as an integer in [min, max]; `fallback` when absent.
std::int64_t query_int(const http::Request& req, std::string_view name, std::int64_t fallback,
                       std::int64_t min = 0, std::int64_t max = INT64_MAX);

/// `from` (>= 0, default 0) and `limit` (>= 0, default 100, at most
/// kMaxPageSize).
struct Page {
  std::int64_t from = 0;
  std::int64_t limit = 100;
};
Page query_page(const http::Request& req);

/// Query `name` as "true" or "false"; nullopt when absent.
std::optional<bool> query_bool(const http::Request& req, std::string_view name);

/// `dir`: "f" (default) or "b"; true for backwards.
bool query_backwards(const http::Request& req);

/// The {userId} path parameter, which must be a user ID (400 M_INVALID_PARAM).
std::string user_param(const http::Request& req);
/// As user_param, and of this server (400 M_INVALID_PARAM "Can only ... local
/// users" otherwise, as Synapse answers).
std::string local_user_param(const Context& ctx, const http::Request& req);
/// The {roomId} path parameter, which must be a room ID.
std::string room_param(const http::Request& req);

/// The body of a BodyMode::raw route as a JSON object; an empty body is {}
/// (Synapse accepts an empty body where every field is optional).
nlohmann::json body_object(const http::Request& req);

/// body[field] when present and not null, else nullopt; the wrong type is
/// 400 M_INVALID_PARAM naming the field.
std::optional<std::string> body_string(const nlohmann::json& body, std::string_view field,
                                       std::size_t max_bytes = 4096);
std::optional<bool> body_bool(const nlohmann::json& body, std::string_view field);
std::optional<std::int64_t> body_int(const nlohmann::json& body, std::string_view field);

http::MatrixError invalid_param(const std::string& message);
http::MatrixError not_found(const std::string& message);

}  // namespace eltrix::admin
