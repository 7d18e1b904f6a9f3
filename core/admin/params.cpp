#include "admin/params.h"

#include "matrix/ids.h"
#include "matrix/json_text.h"

#include <charconv>

namespace eltrix::admin {

http::MatrixError invalid_param(const std::string& message) {
  return {400, "M_INVALID_PARAM", message};
}

http::MatrixError not_found(const std::string& message) {
  return {404, "M_NOT_FOUND", message};
}

std::int64_t query_int(const http::Request& req, std::string_view name, std::int64_t fallback,
                       std::int64_t min, std::int64_t max) {
  auto text = req.query(name);
  if (!text) return fallback;
  std::int64_t value = 0;
  const char* end = text->data() + text->size();
  auto [ptr, ec] = std::from_chars(text->data(), end, value);
  if (ec != std::errc() || ptr != end || text->empty() || value < min || value > max) {
    throw invalid_param("Query parameter " + std::string(name) + " must be an integer between " +
                        std::to_string(min) + " and " + std::to_string(max));
  }
  return value;
}

Page query_page(const http::Request& req) {
  Page page;
  page.from = query_int(req, "from", 0);
  page.limit = std::min(query_int(req, "limit", 100), kMaxPageSize);
  return page;
}

std::optional<bool> query_bool(const http::Request& req, std::string_view name) {
  auto text = req.query(name);
  if (!text) return std::nullopt;
  if (*text == "true") return true;
  if (*text == "false") return false;
  throw invalid_param("Boolean query parameter " + std::string(name) +
                      " must be one of ['true', 'false']");
}

bool query_backwards(const http::Request& req) {
  auto dir = req.query("dir");
  if (!dir || *dir == "f") return false;
  if (*dir == "b") return true;
  throw invalid_param("Query parameter dir must be one of ['b', 'f']");
}

std::string user_param(const http::Request& req) {
  std::string user_id(req.path_param("userId"));
  if (!matrix::parse_user_id(user_id)) throw invalid_param("Invalid user ID: " + user_id);
  return user_id;
}

std::string local_user_param(const Context& ctx, const http::Request& req) {
  std::string user_id = user_param(req);
  if (matrix::server_of(user_id) != ctx.server_name) {
    throw invalid_param("Can only look up local users");
  }
  return user_id;
}

std::string room_param(const http::Request& req) {
  std::string room_id(req.path_param("roomId"));
  if (!matrix::is_valid_room_id(room_id)) throw invalid_param("Invalid room ID: " + room_id);
  return room_id;
}

nlohmann::json body_object(const http::Request& req) {
  if (req.body().empty()) return nlohmann::json::object();
  nlohmann::json parsed;
  if (!matrix::parse_json(req.body(), parsed)) {
    throw http::MatrixError(400, "M_NOT_JSON", "Content not JSON.");
  }
  if (!parsed.is_object()) {
    throw http::MatrixError(400, "M_BAD_JSON", "Request body must be a JSON object");
  }
  return parsed;
}

std::optional<std::string> body_string(const nlohmann::json& body, std::string_view field,
                                       std::size_t max_bytes) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) throw invalid_param(std::string(field) + " must be a string");
  auto value = it->get<std::string>();
  if (value.size() > max_bytes) {
    throw invalid_param(std::string(field) + " is longer than " + std::to_string(max_bytes) +
                        " bytes");
  }
  return value;
}

std::optional<bool> body_bool(const nlohmann::json& body, std::string_view field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) throw invalid_param(std::string(field) + " must be a boolean");
  return it->get<bool>();
}

std::optional<std::int64_t> body_int(const nlohmann::json& body, std::string_view field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) throw invalid_param(std::string(field) + " must be an integer");
  return it->get<std::int64_t>();
}

}  // namespace eltrix::admin
