#include "matrix/state_content.h"

#include "matrix/ids.h"
#include "matrix/power_levels.h"

#include <array>
#include <limits>

namespace eltrix::matrix {

namespace {

using nlohmann::json;
using Why = std::optional<std::string>;

const json* field(const json& content, std::string_view key) {
  auto it = content.find(key);
  return it == content.end() ? nullptr : &*it;
}

std::string quoted(std::string_view type, std::string_view key) {
  return std::string(type) + " '" + std::string(key) + "'";
}

/// A string member, when present. `required`: it must be there.
Why string_member(std::string_view type, const json& content, std::string_view key,
                  bool required = false, bool nullable = false) {
  const json* value = field(content, key);
  if (value == nullptr) {
    return required ? Why(quoted(type, key) + " is required") : std::nullopt;
  }
  if (value->is_string() || (nullable && value->is_null())) return std::nullopt;
  return quoted(type, key) + (nullable ? " must be a string or null" : " must be a string");
}

/// A string member that must be one of `allowed`.
template <std::size_t N>
Why one_of(std::string_view type, const json& content, std::string_view key,
           const std::array<std::string_view, N>& allowed) {
  const json* value = field(content, key);
  if (value != nullptr && value->is_string()) {
    for (auto word : allowed) {
      if (value->get_ref<const std::string&>() == word) return std::nullopt;
    }
  }
  std::string list;
  for (auto word : allowed) list += (list.empty() ? "" : ", ") + std::string(word);
  return quoted(type, key) + " must be one of " + list;
}

Why boolean_member(std::string_view type, const json& content, std::string_view key) {
  const json* value = field(content, key);
  if (value == nullptr || value->is_boolean()) return std::nullopt;
  return quoted(type, key) + " must be a boolean";
}

Why non_negative_integer(std::string_view type, const json& content, std::string_view key) {
  const json* value = field(content, key);
  if (value == nullptr || value->is_number_unsigned()) return std::nullopt;
  if (value->is_number_integer() && value->get<std::int64_t>() >= 0) return std::nullopt;
  return quoted(type, key) + " must be a non-negative integer";
}

Why check_create(const json& content) {
  constexpr std::string_view type = "m.room.create";
  if (auto why = string_member(type, content, "room_version")) return why;
  if (auto why = string_member(type, content, "type")) return why;
  if (auto why = boolean_member(type, content, "m.federate")) return why;
  if (const json* creator = field(content, "creator")) {
    if (!creator->is_string() || !parse_user_id(creator->get_ref<const std::string&>())) {
      return quoted(type, "creator") + " must be a user ID";
    }
  }
  if (const json* predecessor = field(content, "predecessor")) {
    if (!predecessor->is_object()) return quoted(type, "predecessor") + " must be an object";
    const json* room = field(*predecessor, "room_id");
    if (room == nullptr || !room->is_string() ||
        !is_valid_room_id(room->get_ref<const std::string&>())) {
      return quoted(type, "predecessor.room_id") + " must be a room ID";
    }
    if (auto why = string_member(type, *predecessor, "event_id")) return why;
  }
  return std::nullopt;
}

Why check_member(const json& content) {
  constexpr std::string_view type = "m.room.member";
  if (auto why = one_of(type, content, "membership",
                        std::array<std::string_view, 5>{"join", "invite", "leave", "ban", "knock"}))
    return why;
  if (auto why = string_member(type, content, "displayname", false, true)) return why;
  if (auto why = string_member(type, content, "avatar_url", false, true)) return why;
  if (auto why = boolean_member(type, content, "is_direct")) return why;
  if (auto why = string_member(type, content, "reason")) return why;
  if (auto why = string_member(type, content, "join_authorised_via_users_server")) return why;
  if (const json* invite = field(content, "third_party_invite");
      invite != nullptr && !invite->is_object()) {
    return quoted(type, "third_party_invite") + " must be an object";
  }
  return std::nullopt;
}

Why check_join_rules(const json& content) {
  constexpr std::string_view type = "m.room.join_rules";
  if (auto why = one_of(type, content, "join_rule",
                        std::array<std::string_view, 6>{"public", "knock", "invite", "private",
                                                        "restricted", "knock_restricted"}))
    return why;
  const json* allow = field(content, "allow");
  if (allow == nullptr) return std::nullopt;
  if (!allow->is_array()) return quoted(type, "allow") + " must be a list";
  for (const auto& condition : *allow) {
    if (!condition.is_object()) return quoted(type, "allow") + " entries must be objects";
    if (auto why = string_member(type, condition, "type", true)) return why;
    if (condition["type"] == "m.room_membership") {
      const json* room = field(condition, "room_id");
      if (room == nullptr || !room->is_string() ||
          !is_valid_room_id(room->get_ref<const std::string&>())) {
        return quoted(type, "allow[].room_id") + " must be a room ID for m.room_membership";
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> invalid_state_content(std::string_view type, const json& content) {
  if (!content.is_object()) return std::string(type) + " content must be an object";
  if (type == "m.room.create") return check_create(content);
  if (type == "m.room.member") return check_member(content);
  if (type == "m.room.power_levels") {
    std::string why;
    // The creator only matters when there is no content; any name will do.
    if (!PowerLevels::parse(&content, "", &why)) return "m.room.power_levels: " + why;
    return std::nullopt;
  }
  if (type == "m.room.join_rules") return check_join_rules(content);
  if (type == "m.room.history_visibility") {
    return one_of(type, content, "history_visibility",
                  std::array<std::string_view, 4>{"world_readable", "shared", "invited", "joined"});
  }
  if (type == "m.room.guest_access") {
    return one_of(type, content, "guest_access",
                  std::array<std::string_view, 2>{"can_join", "forbidden"});
  }
  if (type == "m.room.encryption") {
    if (auto why = string_member(type, content, "algorithm", true)) return why;
    if (auto why = non_negative_integer(type, content, "rotation_period_ms")) return why;
    return non_negative_integer(type, content, "rotation_period_msgs");
  }
  if (type == "m.room.name") return string_member(type, content, "name");
  if (type == "m.room.topic") return string_member(type, content, "topic");
  if (type == "m.room.avatar") return string_member(type, content, "url");
  if (type == "m.room.tombstone") return string_member(type, content, "replacement_room", true);
  return std::nullopt;
}

}  // namespace eltrix::matrix
