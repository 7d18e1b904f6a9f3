#include "matrix/redaction.h"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string_view>

namespace eltrix::matrix {

namespace {

using nlohmann::json;
using namespace std::string_view_literals;

constexpr std::array kTopLevelV10{
    "event_id"sv,   "type"sv,
    "room_id"sv,    "sender"sv,
    "state_key"sv,  "content"sv,
    "hashes"sv,     "signatures"sv,
    "depth"sv,      "prev_events"sv,
    "prev_state"sv, "auth_events"sv,
    "origin"sv,     "origin_server_ts"sv,
    "membership"sv,
};

// v11 stops protecting origin, membership and prev_state.
constexpr std::array kTopLevelV11{
    "event_id"sv,  "type"sv,        "room_id"sv,     "sender"sv,
    "state_key"sv, "content"sv,     "hashes"sv,      "signatures"sv,
    "depth"sv,     "prev_events"sv, "auth_events"sv, "origin_server_ts"sv,
};

constexpr std::array kPowerLevelsV10{
    "ban"sv,    "events"sv,        "events_default"sv, "kick"sv,
    "redact"sv, "state_default"sv, "users"sv,          "users_default"sv,
};

constexpr std::array kPowerLevelsV11{
    "ban"sv,    "events"sv,        "events_default"sv, "invite"sv,        "kick"sv,
    "redact"sv, "state_default"sv, "users"sv,          "users_default"sv,
};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& keys, std::string_view key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

template <std::size_t N>
json keep_keys(const json& content, const std::array<std::string_view, N>& keys) {
  json kept = json::object();
  for (const auto key : keys) {
    if (const auto it = content.find(key); it != content.end()) kept[std::string(key)] = *it;
  }
  return kept;
}

json redact_content(std::string_view type, const json& content, const RoomVersion& version) {
  const bool v11 = version.v11_redaction;
  if (type == "m.room.member") {
    json kept =
        keep_keys(content, std::array{"membership"sv, "join_authorised_via_users_server"sv});
    if (v11) {
      // The invite's `signed` block is what the auth rules check for a
      // third-party invite, so it must survive; the rest of the invite may go.
      const auto invite = content.find("third_party_invite");
      if (invite != content.end() && invite->is_object()) {
        json only_signed = json::object();
        if (const auto s = invite->find("signed"); s != invite->end()) only_signed["signed"] = *s;
        kept["third_party_invite"] = std::move(only_signed);
      }
    }
    return kept;
  }
  if (type == "m.room.create") {
    if (v11) return content;
    return keep_keys(content, std::array{"creator"sv});
  }
  if (type == "m.room.join_rules") return keep_keys(content, std::array{"join_rule"sv, "allow"sv});
  if (type == "m.room.power_levels") {
    return v11 ? keep_keys(content, kPowerLevelsV11) : keep_keys(content, kPowerLevelsV10);
  }
  if (type == "m.room.history_visibility") {
    return keep_keys(content, std::array{"history_visibility"sv});
  }
  if (type == "m.room.redaction" && v11) return keep_keys(content, std::array{"redacts"sv});
  return json::object();
}

}  // namespace

nlohmann::json redact_event(const nlohmann::json& event, const RoomVersion& version) {
  if (!event.is_object()) throw std::invalid_argument("redact_event: event is not a JSON object");

  json redacted = json::object();
  for (const auto& [key, value] : event.items()) {
    const bool keep =
        version.v11_redaction ? contains(kTopLevelV11, key) : contains(kTopLevelV10, key);
    if (keep && key != "content") redacted[key] = value;
  }

  // A malformed type or content still yields a well-formed redacted event, so
  // that hashes and IDs can be computed for whatever a peer sent.
  const auto type_it = event.find("type");
  const std::string_view type = type_it != event.end() && type_it->is_string()
                                    ? type_it->get_ref<const std::string&>()
                                    : std::string_view{};
  const auto content_it = event.find("content");
  redacted["content"] = content_it != event.end() && content_it->is_object()
                            ? redact_content(type, *content_it, version)
                            : json::object();
  return redacted;
}

}  // namespace eltrix::matrix
