// RoomServiceImpl::create_room: the room row and its initial events (create,
// the creator's join, power levels, alias, presets, initial state, name,
// topic, invites) in one transaction, all through the pipeline; a rejected
// event rolls the whole room back.
#include "matrix/ids.h"
#include "matrix/power_levels.h"
#include "matrix/room_version.h"
#include "rooms/member_profile.h"
#include "rooms/room_service_impl.h"
#include "storage/directory.h"

#include <set>

namespace eltrix::rooms {

namespace {

struct Preset {
  std::string join_rule;
  std::string history_visibility = "shared";
  std::optional<std::string> guest_access = std::nullopt;
  bool invitees_are_admins = false;
};

Preset preset_for(const std::string& name) {
  if (name == "public_chat") return {.join_rule = "public"};
  if (name == "trusted_private_chat") {
    return {.join_rule = "invite", .guest_access = "can_join", .invitees_are_admins = true};
  }
  return {.join_rule = "invite", .guest_access = "can_join"};  // private_chat
}

}  // namespace

SendResult RoomServiceImpl::create_room(const CreateRoom& request) {
  const matrix::RoomVersion* version = matrix::find_room_version(request.version);
  if (version == nullptr) {
    return {Outcome::rejected(Rejection::unsupported_version,
                              "Room version '" + request.version + "' is not supported"),
            {}};
  }
  // Refused before anything is stored, so a failed createRoom leaves no room.
  for (const auto& invitee : request.invites) {
    if (auto local = check_invitee_is_local(invitee); local.is_rejected()) return {local, {}};
  }
  const Preset preset = preset_for(request.preset);
  return write_events([&](storage::Transaction& tx, Committed& committed) -> SendResult {
    tx.exec(
        "INSERT INTO rooms (room_id, room_version, creator, is_public, created_ts) "
        "VALUES ($1, $2, $3, $4, $5)",
        request.room_id, request.version, request.creator, request.is_public, now_ms());
    auto room = load_room(tx, request.room_id, RoomLock::exclusive);
    SendResult last;
    auto send = [&](std::string type, std::string state_key, nlohmann::json content) {
      if (last.outcome.is_rejected()) return;
      NewEvent event{.type = std::move(type),
                     .sender = request.creator,
                     .content = std::move(content),
                     .state_key = std::move(state_key)};
      last = send_locked(tx, *room, event, committed);
    };
    std::set<std::pair<std::string, std::string>> overridden;
    for (const auto& state : request.initial_state) overridden.emplace(state.type, state.state_key);
    auto send_preset = [&](std::string type, nlohmann::json content) {
      if (overridden.count({type, ""}) == 0) send(std::move(type), "", std::move(content));
    };

    nlohmann::json create_content = request.creation_content;
    create_content["room_version"] = request.version;
    if (!version->creator_is_sender) create_content["creator"] = request.creator;
    send("m.room.create", "", create_content);

    nlohmann::json join = member_profile(tx, request.creator);
    join["membership"] = "join";
    send("m.room.member", request.creator, join);

    nlohmann::json levels = matrix::default_power_levels_content(
        request.creator, preset.invitees_are_admins ? request.invites : std::vector<std::string>{});
    if (request.power_level_override != nullptr) {
      for (const auto& [key, value] : request.power_level_override->items()) levels[key] = value;
    }
    send("m.room.power_levels", "", levels);

    if (request.alias && !last.outcome.is_rejected()) {
      storage::create_alias(tx, *request.alias, request.room_id, request.creator);
      send("m.room.canonical_alias", "", {{"alias", *request.alias}});
    }
    send_preset("m.room.join_rules", {{"join_rule", preset.join_rule}});
    send_preset("m.room.history_visibility", {{"history_visibility", preset.history_visibility}});
    if (preset.guest_access) {
      send_preset("m.room.guest_access", {{"guest_access", *preset.guest_access}});
    }
    for (const auto& state : request.initial_state)
      send(state.type, state.state_key, state.content);
    if (request.name) send("m.room.name", "", {{"name", *request.name}});
    if (request.topic) send("m.room.topic", "", {{"topic", *request.topic}});
    for (const auto& invitee : request.invites) {
      nlohmann::json invite = member_profile(tx, invitee);
      invite["membership"] = "invite";
      if (request.is_direct) invite["is_direct"] = true;
      send("m.room.member", invitee, invite);
    }
    return last;
  });
}

}  // namespace eltrix::rooms
