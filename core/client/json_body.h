// Typed reads of request bodies. A missing required field or a field of the
// wrong type is the client's error: 400 M_BAD_JSON (M_MISSING_PARAM when
// absent), naming the field.
#pragma once

#include "http/error.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eltrix::client {

[[noreturn]] void throw_bad_json(std::string_view field, std::string_view expected);

/// body[field] as a string; 400 M_MISSING_PARAM if absent, M_BAD_JSON if not a string.
std::string require_string(const nlohmann::json& body, std::string_view field);
/// body[field] as a string when present and not null; M_BAD_JSON if another type.
std::optional<std::string> optional_string(const nlohmann::json& body, std::string_view field);
std::optional<bool> optional_bool(const nlohmann::json& body, std::string_view field);
std::optional<std::int64_t> optional_int(const nlohmann::json& body, std::string_view field);
/// body[field] when it is an object (or absent: nullptr); M_BAD_JSON otherwise.
const nlohmann::json* optional_object(const nlohmann::json& body, std::string_view field);
/// body[field] when it is an array (or absent: nullptr); M_BAD_JSON otherwise.
const nlohmann::json* optional_array(const nlohmann::json& body, std::string_view field);

/// Common Matrix errors.
http::MatrixError forbidden(const std::string& message);      // 403 M_FORBIDDEN
http::MatrixError not_found(const std::string& message);      // 404 M_NOT_FOUND
http::MatrixError invalid_param(const std::string& message);  // 400 M_INVALID_PARAM
http::MatrixError bad_json(const std::string& message);       // 400 M_BAD_JSON

}  // namespace eltrix::client
