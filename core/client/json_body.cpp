#include "client/json_body.h"

#include <fmt/format.h>

namespace eltrix::client {

namespace {
const nlohmann::json* find(const nlohmann::json& body, std::string_view field) {
  if (!body.is_object()) return nullptr;
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return nullptr;
  return &*it;
}
}  // namespace

void throw_bad_json(std::string_view field, std::string_view expected) {
  throw http::MatrixError(400, "M_BAD_JSON", fmt::format("'{}' must be {}", field, expected));
}

std::string require_string(const nlohmann::json& body, std::string_view field) {
  const auto* value = find(body, field);
  if (value == nullptr) {
    throw http::MatrixError(400, "M_MISSING_PARAM", fmt::format("'{}' is required", field));
  }
  if (!value->is_string()) throw_bad_json(field, "a string");
  return value->get<std::string>();
}

std::optional<std::string> optional_string(const nlohmann::json& body, std::string_view field) {
  const auto* value = find(body, field);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) throw_bad_json(field, "a string");
  return value->get<std::string>();
}

std::optional<bool> optional_bool(const nlohmann::json& body, std::string_view field) {
  const auto* value = find(body, field);
  if (value == nullptr) return std::nullopt;
  if (!value->is_boolean()) throw_bad_json(field, "a boolean");
  return value->get<bool>();
}

std::optional<std::int64_t> optional_int(const nlohmann::json& body, std::string_view field) {
  const auto* value = find(body, field);
  if (value == nullptr) return std::nullopt;
  if (!value->is_number_integer()) throw_bad_json(field, "an integer");
  return value->get<std::int64_t>();
}

const nlohmann::json* optional_object(const nlohmann::json& body, std::string_view field) {
  const auto* value = find(body, field);
  if (value != nullptr && !value->is_object()) throw_bad_json(field, "an object");
  return value;
}

const nlohmann::json* optional_array(const nlohmann::json& body, std::string_view field) {
  const auto* value = find(body, field);
  if (value != nullptr && !value->is_array()) throw_bad_json(field, "an array");
  return value;
}

http::MatrixError forbidden(const std::string& message) {
  return {403, "M_FORBIDDEN", message};
}
http::MatrixError not_found(const std::string& message) {
  return {404, "M_NOT_FOUND", message};
}
http::MatrixError invalid_param(const std::string& message) {
  return {400, "M_INVALID_PARAM", message};
}
http::MatrixError bad_json(const std::string& message) {
  return {400, "M_BAD_JSON", message};
}

}  // namespace eltrix::client
