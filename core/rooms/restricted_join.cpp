#include "rooms/restricted_join.h"

#include "errors/error.h"
#include "matrix/ids.h"
#include "matrix/power_levels.h"
#include "storage/database.h"

#include <algorithm>
#include <optional>
#include <vector>

namespace eltrix::rooms {

namespace {

/// Most allow conditions read from one join rules event (its size is bounded
/// by the PDU limit anyway; this bounds the query).
constexpr std::size_t kMaxAllowRooms = 64;

errors::Error refuse(const std::string& message) {
  return errors::forbidden(message);
}

/// The join rule's content when it is restricted or knock_restricted and the
/// room version knows that rule; nullopt otherwise.
std::optional<nlohmann::json> restricted_rule(storage::Transaction& tx, const RoomInfo& room,
                                              const matrix::RoomVersion& version) {
  if (!version.restricted_join) return std::nullopt;
  auto event = current_state_event(tx, room.room_id, "m.room.join_rules", "");
  if (!event) return std::nullopt;
  auto content = event->pdu.find("content");
  if (content == event->pdu.end() || !content->is_object()) return std::nullopt;
  auto rule = content->find("join_rule");
  if (rule == content->end() || !rule->is_string()) return std::nullopt;
  const auto& name = rule->get_ref<const std::string&>();
  if (name == "restricted" || (name == "knock_restricted" && version.knock)) return *content;
  return std::nullopt;
}

/// The rooms named by the m.room_membership conditions of `allow`.
std::vector<std::string> allowed_via_rooms(const nlohmann::json& rule) {
  std::vector<std::string> rooms;
  auto allow = rule.find("allow");
  if (allow == rule.end() || !allow->is_array()) return rooms;
  for (const auto& condition : *allow) {
    if (rooms.size() >= kMaxAllowRooms) break;
    if (!condition.is_object()) continue;
    auto type = condition.find("type");
    auto room_id = condition.find("room_id");
    if (type == condition.end() || *type != "m.room_membership") continue;
    if (room_id == condition.end() || !room_id->is_string()) continue;
    // is_valid_room_id refuses NUL too, which no SQL parameter may carry.
    if (!matrix::is_valid_room_id(room_id->get_ref<const std::string&>())) continue;
    rooms.push_back(room_id->get<std::string>());
  }
  return rooms;
}

bool joined_any(storage::Transaction& tx, std::string_view user_id,
                const std::vector<std::string>& rooms) {
  if (rooms.empty()) return false;
  return tx
      .exec_optional(
          "SELECT 1 FROM room_memberships WHERE user_id = $1 AND membership = 'join' "
          "AND room_id = ANY($2::text[]) LIMIT 1",
          user_id, pg_text_array(rooms))
      .has_value();
}

/// The local joined user with the highest level >= invite (ties: the
/// smallest user ID, so the choice is stable), if any.
std::optional<std::string> pick_authoriser(storage::Transaction& tx, const RoomInfo& room,
                                           std::string_view server_name) {
  auto levels_event = current_state_event(tx, room.room_id, "m.room.power_levels", "");
  const nlohmann::json* levels_content = nullptr;
  if (levels_event) {
    auto it = levels_event->pdu.find("content");
    if (it != levels_event->pdu.end()) levels_content = &*it;
  }
  auto levels = matrix::PowerLevels::parse(levels_content, room.creator);
  if (!levels) return std::nullopt;
  const std::string suffix = ":" + std::string(server_name);
  auto local = [&](const std::string& user) { return user.ends_with(suffix); };

  // Users raised in power levels first: usually few, and the best choices.
  std::vector<std::pair<std::int64_t, std::string>> named;
  for (const auto& [user, level] : levels->users) {
    if (level >= levels->invite && local(user)) named.emplace_back(level, user);
  }
  // With no power levels event the creator has 100 (PowerLevels::parse).
  if (!levels_event && local(room.creator) && 100 >= levels->invite) {
    named.emplace_back(100, room.creator);
  }
  std::sort(named.begin(), named.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  if (!named.empty()) {
    std::vector<std::string> ids;
    ids.reserve(named.size());
    for (const auto& entry : named) ids.push_back(entry.second);
    std::vector<std::string> joined;
    for (const auto& row : tx.exec("SELECT user_id FROM room_memberships WHERE room_id = $1 "
                                   "AND membership = 'join' AND user_id = ANY($2::text[])",
                                   room.room_id, pg_text_array(ids))) {
      joined.push_back(row[0].as<std::string>());
    }
    for (const auto& [level, user] : named) {
      if (std::find(joined.begin(), joined.end(), user) != joined.end()) return user;
    }
  }
  // Everyone may invite: any local member will do.
  if (levels->users_default >= levels->invite) {
    auto row = tx.exec_optional(
        "SELECT user_id FROM room_memberships WHERE room_id = $1 AND membership = 'join' "
        "AND right(user_id, length($2)) = $2 ORDER BY user_id LIMIT 1",
        room.room_id, suffix);
    if (row) {
      auto user = (*row)[0].as<std::string>();
      // A user listed in `users` below the invite level does not count.
      if (levels->user_level(user) >= levels->invite) return user;
    }
  }
  return std::nullopt;
}

}  // namespace

void authorise_local_join(storage::Transaction& tx, const RoomInfo& room,
                          const matrix::RoomVersion& version, std::string_view sender,
                          std::string_view state_key, nlohmann::json& content,
                          std::string_view server_name) {
  if (!content.is_object()) return;
  content.erase(std::string(kJoinAuthorisedVia));
  auto membership = content.find("membership");
  if (membership == content.end() || *membership != "join" || sender != state_key) return;
  auto rule = restricted_rule(tx, room, version);
  if (!rule) return;
  // Already invited or joined: the auth rules allow the join outright. A
  // banned user is refused by them too.
  auto current = membership_of(tx, room.room_id, sender);
  if (current && (current->membership == "invite" || current->membership == "join" ||
                  current->membership == "ban")) {
    return;
  }
  if (!joined_any(tx, sender, allowed_via_rooms(*rule))) {
    throw refuse("You need to be invited to this room, or to be in a room its join rules allow");
  }
  auto authoriser = pick_authoriser(tx, room, server_name);
  if (!authoriser) {
    throw refuse("No user of this server who may invite is in the room to authorise the join");
  }
  content[std::string(kJoinAuthorisedVia)] = *authoriser;
}

}  // namespace eltrix::rooms
