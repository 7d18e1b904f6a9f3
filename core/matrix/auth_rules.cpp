#include "matrix/auth_rules.h"

#include "matrix/ids.h"

#include <algorithm>
#include <array>
#include <optional>

namespace eltrix::matrix {

namespace {

using nlohmann::json;

constexpr std::string_view kCreate = "m.room.create";
constexpr std::string_view kMember = "m.room.member";
constexpr std::string_view kPowerLevels = "m.room.power_levels";
constexpr std::string_view kJoinRules = "m.room.join_rules";
constexpr std::string_view kThirdPartyInvite = "m.room.third_party_invite";

AuthResult allow() {
  return {.allowed = true, .reason = {}};
}
AuthResult deny(std::string reason) {
  return {.allowed = false, .reason = std::move(reason)};
}

AuthResult need(std::string_view action, std::int64_t needed, std::int64_t have) {
  return deny("You don't have permission to " + std::string(action) + " (need " +
              std::to_string(needed) + ", have " + std::to_string(have) + ")");
}

/// obj[key] when obj is an object and that member is a string; else null.
const std::string* string_at(const json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return nullptr;
  return it->get_ptr<const std::string*>();
}

/// event.content, or an empty object when it has none (state built by hand
/// may lack it; the rules then read defaults).
const json& content_of(const json& event) {
  static const json empty = json::object();
  if (!event.is_object()) return empty;
  auto it = event.find("content");
  return it != event.end() && it->is_object() ? *it : empty;
}

/// The user's membership in `state`; "" when they have no member event, which
/// none of the rules treats as any particular membership.
std::string membership_of(const AuthState& state, std::string_view user) {
  const json* member = state.get(kMember, user);
  if (!member) return {};
  const std::string* membership = string_at(content_of(*member), "membership");
  return membership ? *membership : std::string{};
}

/// What the membership rules need about the room, read once.
struct Room {
  const RoomVersion* version = nullptr;
  const json* create = nullptr;
  std::string creator;
  PowerLevels levels;
  std::string join_rule;
};

AuthResult check_create(const json& event, const json& content, const RoomVersion& version) {
  // The create event starts the room's DAG, so it can't follow anything.
  if (auto prev = event.find("prev_events"); prev != event.end() && !prev->is_null()) {
    if (!prev->is_array()) return deny("prev_events must be a list");
    if (!prev->empty()) return deny("The create event must be the first event in the room");
  }
  if (auto rv = content.find("room_version"); rv != content.end()) {
    if (!rv->is_string() || !find_room_version(rv->get<std::string>())) {
      return deny("Unsupported room version");
    }
    // The caller picked the rules from this very field; a mismatch means the
    // event is being checked under the wrong version.
    if (rv->get<std::string>() != version.id) {
      return deny("The create event's room_version does not match the room");
    }
  }
  if (!version.creator_is_sender && !string_at(content, "creator")) {
    return deny("The create event has no creator");
  }
  return allow();
}

AuthResult check_join(const json& event, const json& content, const std::string& sender,
                      const std::string& target, const AuthState& state, const Room& room) {
  // The creator's own join straight after the create event: nobody has power
  // yet and there are no join rules, so it is allowed outright.
  if (auto prev = event.find("prev_events");
      prev != event.end() && prev->is_array() && prev->size() == 1) {
    const std::string* create_id = string_at(*room.create, "event_id");
    if (create_id && (*prev)[0].is_string() &&
        (*prev)[0].get_ref<const std::string&>() == *create_id && target == room.creator) {
      return allow();
    }
  }
  if (sender != target) return deny("You can't join on behalf of another user");
  const std::string current = membership_of(state, target);
  if (current == "ban") return deny("You are banned from this room");

  const std::string& rule = room.join_rule;
  // Join rules the room version lacks are unknown, and so refuse everyone.
  const bool knock = room.version->knock;
  const bool restricted = room.version->restricted_join;
  if (rule == "invite" || (knock && rule == "knock")) {
    if (current == "invite" || current == "join") return allow();
  } else if ((restricted && rule == "restricted") ||
             (restricted && knock && rule == "knock_restricted")) {
    if (current == "invite" || current == "join") return allow();
    // The joining server proved the user meets the allow conditions; the room
    // trusts that only if the vouching user could have invited them anyway.
    const std::string* via = string_at(content, "join_authorised_via_users_server");
    if (!via) return deny("You need an invite or an authorising server to join this room");
    if (membership_of(state, *via) != "join") {
      return deny("The user authorising the join is not in the room");
    }
    if (room.levels.user_level(*via) < room.levels.invite) {
      return deny("The user authorising the join does not have permission to invite");
    }
    return allow();
  } else if (rule == "public") {
    return allow();
  }
  return deny("You are not invited to this room");
}

AuthResult check_member(const json& event, const json& content, const std::string& sender,
                        const AuthState& state, const Room& room) {
  const std::string* target_ptr = string_at(event, "state_key");
  if (!target_ptr) return deny("Membership events need a state_key");
  const std::string* membership = string_at(content, "membership");
  if (!membership) return deny("Membership events need content.membership");
  const std::string& target = *target_ptr;
  const PowerLevels& levels = room.levels;

  if (*membership == "join") return check_join(event, content, sender, target, state, room);

  const std::string sender_membership = membership_of(state, sender);
  const std::string target_membership = membership_of(state, target);
  const std::int64_t sender_level = levels.user_level(sender);
  const std::int64_t target_level = levels.user_level(target);

  if (*membership == "invite") {
    if (content.contains("third_party_invite")) {
      return deny("Third-party invites are not supported");
    }
    if (sender_membership != "join") return deny("You are not joined to this room");
    if (target_membership == "join") return deny(target + " is already in the room");
    if (target_membership == "ban") return deny(target + " is banned from the room");
    if (sender_level >= levels.invite) return allow();
    return need("invite", levels.invite, sender_level);
  }

  if (*membership == "leave") {
    if (sender == target) {
      // Leaving, rejecting an invite, and withdrawing a knock. A banned user
      // may not "leave", since that would lift the ban.
      if (target_membership == "invite" || target_membership == "join" ||
          target_membership == "knock") {
        return allow();
      }
      return deny("You are not in this room");
    }
    if (sender_membership != "join") return deny("You are not joined to this room");
    const bool unban = target_membership == "ban";
    if (unban && sender_level < levels.ban) return need("unban", levels.ban, sender_level);
    const char* action = unban ? "unban" : "kick";
    if (sender_level < levels.kick) return need(action, levels.kick, sender_level);
    if (target_level >= sender_level) {
      return deny(std::string("You can't ") + action + " a user whose power level (" +
                  std::to_string(target_level) + ") is not below yours (" +
                  std::to_string(sender_level) + ")");
    }
    return allow();
  }

  if (*membership == "ban") {
    if (sender_membership != "join") return deny("You are not joined to this room");
    if (sender_level < levels.ban) return need("ban", levels.ban, sender_level);
    if (target_level >= sender_level) {
      return deny("You can't ban a user whose power level (" + std::to_string(target_level) +
                  ") is not below yours (" + std::to_string(sender_level) + ")");
    }
    return allow();
  }

  if (*membership == "knock" && room.version->knock) {
    if (room.join_rule != "knock" && room.join_rule != "knock_restricted") {
      return deny("This room does not accept knocks");
    }
    if (sender != target) return deny("You can't knock on behalf of another user");
    if (target_membership == "ban") return deny("You are banned from this room");
    if (target_membership == "invite") return deny("You are already invited to this room");
    if (target_membership == "join") return deny("You are already in this room");
    return allow();
  }

  return deny("Unknown membership '" + *membership + "'");
}

/// content[key] as a level; the content was validated by PowerLevels::parse.
std::optional<std::int64_t> raw_level(const json& content, std::string_view key) {
  auto it = content.find(key);
  if (it == content.end()) return std::nullopt;
  return it->get<std::int64_t>();
}

std::map<std::string, std::int64_t> raw_map(const json& content, std::string_view key) {
  std::map<std::string, std::int64_t> out;
  auto it = content.find(key);
  if (it == content.end()) return out;
  for (const auto& [name, value] : it->items()) out[name] = value.get<std::int64_t>();
  return out;
}

std::string level_text(const std::optional<std::int64_t>& v) {
  return v ? std::to_string(*v) : std::string("unset");
}

/// Rule 9: who may change which levels. Raw values are compared (not the
/// defaults), so adding a key with its default value still counts as a change.
AuthResult check_power_levels(const json& content, const std::string& sender,
                              const AuthState& state, const Room& room) {
  std::string why;
  if (!PowerLevels::parse(&content, room.creator, &why)) return deny(why);
  const json* old_event = state.get(kPowerLevels, "");
  if (!old_event) return allow();
  const json& old_content = content_of(*old_event);
  const std::int64_t mine = room.levels.user_level(sender);

  constexpr std::array kNamed{"users_default", "events_default", "state_default", "ban",
                              "redact",        "kick",           "invite"};
  for (const char* key : kNamed) {
    auto before = raw_level(old_content, key);
    auto after = raw_level(content, key);
    if (before == after) continue;
    if ((before && *before > mine) || (after && *after > mine)) {
      return deny(std::string("You can't change '") + key + "' from " + level_text(before) +
                  " to " + level_text(after) + " with power level " + std::to_string(mine));
    }
  }

  for (const char* key : {"events", "notifications"}) {
    auto before = raw_map(old_content, key);
    auto after = raw_map(content, key);
    for (const auto& [name, level] : before) {
      auto it = after.find(name);
      if (it != after.end() && it->second == level) continue;
      if (level > mine) {
        return deny(std::string("You can't change ") + key + " level of '" + name + "' from " +
                    std::to_string(level) + " with power level " + std::to_string(mine));
      }
    }
    for (const auto& [name, level] : after) {
      auto it = before.find(name);
      if (it != before.end() && it->second == level) continue;
      if (level > mine) {
        return deny(std::string("You can't set ") + key + " level of '" + name + "' to " +
                    std::to_string(level) + " with power level " + std::to_string(mine));
      }
    }
  }

  auto before = raw_map(old_content, "users");
  auto after = raw_map(content, "users");
  for (const auto& [user, level] : before) {
    auto it = after.find(user);
    if (it != after.end() && it->second == level) continue;
    // Demoting yourself is always allowed; demoting a peer is not.
    if (user != sender && level >= mine) {
      return deny("You can't change the power level of " + user + " (" + std::to_string(level) +
                  ") which is not below yours (" + std::to_string(mine) + ")");
    }
  }
  for (const auto& [user, level] : after) {
    auto it = before.find(user);
    if (it != before.end() && it->second == level) continue;
    if (level > mine) {
      return deny("You can't give " + user + " a power level (" + std::to_string(level) +
                  ") above yours (" + std::to_string(mine) + ")");
    }
  }
  return allow();
}

}  // namespace

void AuthState::put(const nlohmann::json& event) {
  const std::string* type = string_at(event, "type");
  const std::string* state_key = string_at(event, "state_key");
  if (!type || !state_key) return;
  events_[{*type, *state_key}] = event;
}

const nlohmann::json* AuthState::get(std::string_view type, std::string_view state_key) const {
  auto it = events_.find({std::string(type), std::string(state_key)});
  return it != events_.end() ? &it->second : nullptr;
}

void AuthState::erase(std::string_view type, std::string_view state_key) {
  events_.erase({std::string(type), std::string(state_key)});
}

std::vector<std::pair<std::string, std::string>> auth_event_keys(const nlohmann::json& event) {
  std::vector<std::pair<std::string, std::string>> keys;
  const std::string* type = string_at(event, "type");
  if (!type || *type == kCreate) return keys;
  auto add = [&keys](std::string_view t, std::string_view k) {
    std::pair<std::string, std::string> key{t, k};
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(std::move(key));
  };
  add(kCreate, "");
  add(kPowerLevels, "");
  if (const std::string* sender = string_at(event, "sender")) add(kMember, *sender);
  if (*type != kMember) return keys;

  const std::string* target = string_at(event, "state_key");
  if (target) add(kMember, *target);
  const json& content = content_of(event);
  const std::string* membership = string_at(content, "membership");
  if (!membership) return keys;
  if (*membership == "join" || *membership == "invite" || *membership == "knock") {
    add(kJoinRules, "");
  }
  if (*membership == "invite" && content.contains("third_party_invite")) {
    const json& invite = content["third_party_invite"];
    if (invite.is_object() && invite.contains("signed")) {
      if (const std::string* token = string_at(invite["signed"], "token")) {
        add(kThirdPartyInvite, *token);
      }
    }
  }
  if (*membership == "join") {
    if (const std::string* via = string_at(content, "join_authorised_via_users_server")) {
      add(kMember, *via);
    }
  }
  return keys;
}

AuthResult check_auth(const nlohmann::json& event, const AuthState& state,
                      const RoomVersion& version) {
  const std::string* type = string_at(event, "type");
  if (!type) return deny("The event has no type");
  const std::string* sender = string_at(event, "sender");
  if (!sender) return deny("The event has no sender");
  auto content_it = event.find("content");
  if (content_it == event.end() || !content_it->is_object()) {
    return deny("The event content must be an object");
  }
  const json& content = *content_it;
  const bool is_state = event.contains("state_key");
  if (is_state && !event["state_key"].is_string()) return deny("state_key must be a string");

  // Rule 1.
  if (*type == kCreate) return check_create(event, content, version);

  // Rule 2.4: every other event needs the room to exist.
  Room room;
  room.version = &version;
  room.create = state.get(kCreate, "");
  if (!room.create) return deny("The room has no create event");
  const json& create_content = content_of(*room.create);
  // v11 dropped content.creator: the create event's sender is the creator.
  const std::string* creator = version.creator_is_sender ? string_at(*room.create, "sender")
                                                         : string_at(create_content, "creator");
  if (creator) room.creator = *creator;

  // Rule 3: a non-federating room only takes events from the creating server.
  if (auto federate = create_content.find("m.federate");
      federate != create_content.end() && *federate == false) {
    const std::string* create_sender = string_at(*room.create, "sender");
    if (!create_sender || server_of(*sender) != server_of(*create_sender)) {
      return deny("This room does not federate");
    }
  }

  const json* pl_event = state.get(kPowerLevels, "");
  auto levels = PowerLevels::parse(pl_event ? &content_of(*pl_event) : nullptr, room.creator);
  if (!levels) return deny("The room's power levels are invalid");
  room.levels = std::move(*levels);

  const json* join_rules = state.get(kJoinRules, "");
  const std::string* rule = join_rules ? string_at(content_of(*join_rules), "join_rule") : nullptr;
  // With no (or a malformed) join rule nobody may join uninvited.
  room.join_rule = rule ? *rule : "invite";

  // Rule 4.
  if (*type == kMember) return check_member(event, content, *sender, state, room);

  // Rule 5.
  if (membership_of(state, *sender) != "join") return deny("You are not joined to this room");

  const std::int64_t mine = room.levels.user_level(*sender);
  // Rule 6: a third-party invite is an invite, so it takes the invite level.
  if (*type == kThirdPartyInvite) {
    if (mine >= room.levels.invite) return allow();
    return need("invite", room.levels.invite, mine);
  }

  // Rule 7. (m.room.redaction included: the redact level is not an auth rule.)
  const std::int64_t required = room.levels.event_level(*type, is_state);
  if (required > mine) return need("send " + *type, required, mine);

  // Rule 8: state keyed by a user ID belongs to that user.
  if (is_state) {
    const std::string& state_key = event["state_key"].get_ref<const std::string&>();
    if (!state_key.empty() && state_key.front() == '@' && state_key != *sender) {
      return deny("You can't set state keyed by another user's ID");
    }
  }

  // Rule 9.
  if (*type == kPowerLevels) return check_power_levels(content, *sender, state, room);

  // Rule 10.
  return allow();
}

bool may_redact(std::string_view redaction_sender, std::string_view original_sender,
                const PowerLevels& levels) {
  if (levels.user_level(redaction_sender) >= levels.redact) return true;
  const std::string server = server_of(redaction_sender);
  return !server.empty() && server == server_of(original_sender);
}

}  // namespace eltrix::matrix
