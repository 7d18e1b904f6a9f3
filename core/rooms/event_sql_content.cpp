#include "rooms/event_sql_content.h"

namespace eltrix::rooms {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

std::string replace_nul(const std::string& text) {
  if (text.find('\0') == std::string::npos) return text;
  std::string out;
  out.reserve(text.size() + 8);
  for (char ch : text) {
    if (ch == '\0') {
      out += kReplacement;
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

bool highlight_type(std::string_view type) {
  return type == "m.room.message" || type == "m.sticker" || type == "m.room.encrypted";
}

}  // namespace

nlohmann::json without_nul(const nlohmann::json& value) {
  if (value.is_string()) return replace_nul(value.get_ref<const std::string&>());
  if (value.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : value) out.push_back(without_nul(item));
    return out;
  }
  if (value.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, item] : value.items()) out[replace_nul(key)] = without_nul(item);
    return out;
  }
  return value;
}

std::optional<std::string> event_sql_content(std::string_view type, bool is_state,
                                             const nlohmann::json& content) {
  if (!content.is_object()) return std::nullopt;
  if (is_state)
    return without_nul(content).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (!highlight_type(type)) return std::nullopt;
  nlohmann::json out = nlohmann::json::object();
  for (const char* key : {"body", "m.mentions"}) {
    if (auto it = content.find(key); it != content.end()) out[key] = without_nul(*it);
  }
  if (out.empty()) return std::nullopt;
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace eltrix::rooms
