#include "matrix/power_levels.h"

#include "matrix/ids.h"

#include <array>
#include <utility>

namespace eltrix::matrix {

namespace {

void set_why(std::string* why, std::string text) {
  if (why) *why = std::move(text);
}

/// A JSON integer within the canonical JSON range. Floats (even 1.0), strings
/// and booleans are not integers in room versions 10+.
std::optional<std::int64_t> as_level(const nlohmann::json& value) {
  if (value.is_number_unsigned()) {
    // Checked before get<int64_t>() so huge unsigned values cannot wrap.
    auto v = value.get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(kMaxPowerLevel)) return std::nullopt;
    return static_cast<std::int64_t>(v);
  }
  if (value.is_number_integer()) {
    auto v = value.get<std::int64_t>();
    if (v < -kMaxPowerLevel || v > kMaxPowerLevel) return std::nullopt;
    return v;
  }
  return std::nullopt;
}

/// An object whose values are all levels, into `out`.
bool parse_level_map(const nlohmann::json& content, const char* key,
                     std::map<std::string, std::int64_t>& out, std::string* why) {
  auto it = content.find(key);
  if (it == content.end()) return true;
  if (!it->is_object()) {
    set_why(why, std::string("power levels: '") + key + "' must be an object");
    return false;
  }
  for (const auto& [name, value] : it->items()) {
    auto level = as_level(value);
    if (!level) {
      set_why(why, std::string("power levels: '") + key + "." + name + "' must be an integer");
      return false;
    }
    out[name] = *level;
  }
  return true;
}

}  // namespace

std::optional<PowerLevels> PowerLevels::parse(const nlohmann::json* content,
                                              std::string_view creator, std::string* why) {
  PowerLevels levels;
  if (!content) {
    if (!creator.empty()) levels.users[std::string(creator)] = 100;
    return levels;
  }
  if (!content->is_object()) {
    set_why(why, "power levels: content must be an object");
    return std::nullopt;
  }

  const std::array<std::pair<const char*, std::int64_t*>, 7> named{{
      {"ban", &levels.ban},
      {"kick", &levels.kick},
      {"invite", &levels.invite},
      {"redact", &levels.redact},
      {"state_default", &levels.state_default},
      {"events_default", &levels.events_default},
      {"users_default", &levels.users_default},
  }};
  for (const auto& [key, field] : named) {
    auto it = content->find(key);
    if (it == content->end()) continue;
    auto level = as_level(*it);
    if (!level) {
      set_why(why, std::string("power levels: '") + key + "' must be an integer");
      return std::nullopt;
    }
    *field = *level;
  }

  if (!parse_level_map(*content, "events", levels.events, why)) return std::nullopt;
  if (!parse_level_map(*content, "users", levels.users, why)) return std::nullopt;
  for (const auto& [user, level] : levels.users) {
    // The historical grammar: these come from other servers' events.
    if (!parse_user_id(user)) {
      set_why(why, "power levels: '" + user + "' in 'users' is not a user ID");
      return std::nullopt;
    }
  }
  std::map<std::string, std::int64_t> notifications;
  if (!parse_level_map(*content, "notifications", notifications, why)) return std::nullopt;
  if (auto it = notifications.find("room"); it != notifications.end()) {
    levels.notifications_room = it->second;
  }
  return levels;
}

std::int64_t PowerLevels::user_level(std::string_view user_id) const {
  auto it = users.find(std::string(user_id));
  return it != users.end() ? it->second : users_default;
}

std::int64_t PowerLevels::event_level(std::string_view type, bool is_state) const {
  auto it = events.find(std::string(type));
  if (it != events.end()) return it->second;
  return is_state ? state_default : events_default;
}

nlohmann::json default_power_levels_content(std::string_view creator,
                                            const std::vector<std::string>& extra_admins) {
  nlohmann::json users = nlohmann::json::object();
  users[std::string(creator)] = 100;
  for (const auto& admin : extra_admins) users[admin] = 100;
  return {
      {"users", std::move(users)},
      {"users_default", 0},
      // Room-wide settings that can lock people out or leak history need
      // admins; cosmetic ones need moderators. Everything else falls back to
      // state_default/events_default.
      {"events",
       {
           {"m.room.name", 50},
           {"m.room.power_levels", 100},
           {"m.room.history_visibility", 100},
           {"m.room.canonical_alias", 50},
           {"m.room.avatar", 50},
           {"m.room.tombstone", 100},
           {"m.room.server_acl", 100},
           {"m.room.encryption", 100},
       }},
      {"events_default", 0},
      {"state_default", 50},
      {"ban", 50},
      {"kick", 50},
      {"redact", 50},
      // Any member may invite, whatever the preset: an invite is only an offer.
      {"invite", 0},
  };
}

}  // namespace eltrix::matrix
