#include "client/create_room.h"

#include "client/json_body.h"
#include "client/rate_limit_impl.h"
#include "client/room_access.h"
#include "matrix/ids.h"
#include "matrix/power_levels.h"
#include "matrix/room_version.h"
#include "storage/directory.h"

#include <set>

namespace eltrix::client {

namespace {

struct Preset {
  std::string join_rule;
  std::string history_visibility = "shared";
  std::optional<std::string> guest_access = std::nullopt;
  bool invitees_are_admins = false;
};

Preset preset_for(const std::string& name) {
  if (name == "public_chat") return {.join_rule = "public"};
  if (name == "private_chat") return {.join_rule = "invite", .guest_access = "can_join"};
  if (name == "trusted_private_chat") {
    return {.join_rule = "invite", .guest_access = "can_join", .invitees_are_admins = true};
  }
  throw bad_json("'preset' must be private_chat, public_chat or trusted_private_chat");
}

struct InitialState {
  std::string type;
  std::string state_key;
  nlohmann::json content;
};

std::vector<InitialState> parse_initial_state(const nlohmann::json& body) {
  std::vector<InitialState> out;
  const auto* list = optional_array(body, "initial_state");
  if (list == nullptr) return out;
  if (list->size() > 100) throw bad_json("'initial_state' has more than 100 events");
  for (const auto& item : *list) {
    if (!item.is_object()) throw bad_json("'initial_state' entries must be objects");
    InitialState state{require_string(item, "type"),
                       optional_string(item, "state_key").value_or(""), nlohmann::json::object()};
    if (const auto* content = optional_object(item, "content")) state.content = *content;
    if (state.type == "m.room.create" || state.type == "m.room.member") {
      // The create event and memberships come from the request's own fields.
      throw bad_json("'initial_state' cannot contain " + state.type);
    }
    out.push_back(std::move(state));
  }
  return out;
}

http::Response create_room(Context& ctx, http::Request& req) {
  const Requester& who = req.requester();
  // Before any work: a room costs a dozen events and their state.
  if (auto limited = rate_limited(ctx, RateLimitedAction::create_room, who.user_id)) {
    return *limited;
  }
  const nlohmann::json& body = req.json();
  auto& rooms = room_service(ctx);

  const std::string version_id =
      optional_string(body, "room_version").value_or(std::string(matrix::kDefaultRoomVersion));
  const matrix::RoomVersion* version = matrix::find_room_version(version_id);
  if (version == nullptr) {
    throw http::MatrixError(400, "M_UNSUPPORTED_ROOM_VERSION",
                            "Room version '" + version_id + "' is not supported");
  }
  const std::string visibility = optional_string(body, "visibility").value_or("private");
  if (visibility != "public" && visibility != "private") {
    throw bad_json("'visibility' must be public or private");
  }
  const Preset preset =
      preset_for(optional_string(body, "preset")
                     .value_or(visibility == "public" ? "public_chat" : "private_chat"));
  const bool is_direct = optional_bool(body, "is_direct").value_or(false);

  std::optional<std::string> alias;
  if (auto name = optional_string(body, "room_alias_name")) {
    alias = "#" + *name + ":" + ctx.server_name;
    if (name->empty() || name->find(':') != std::string::npos ||
        !matrix::is_valid_room_alias(*alias)) {
      throw http::MatrixError(400, "M_INVALID_PARAM",
                              "'room_alias_name' is not a valid alias localpart");
    }
  }
  std::vector<std::string> invites;
  if (const auto* list = optional_array(body, "invite")) {
    if (list->size() > 100) throw bad_json("'invite' lists more than 100 users");
    for (const auto& user : *list) {
      if (!user.is_string()) throw bad_json("'invite' must be an array of user IDs");
      invites.push_back(checked_user_id(user.get<std::string>()));
    }
  }
  if (const auto* third_party = optional_array(body, "invite_3pid");
      third_party != nullptr && !third_party->empty()) {
    throw http::MatrixError(400, "M_UNRECOGNIZED", "Third-party invites are not supported");
  }
  nlohmann::json create_content = nlohmann::json::object();
  if (const auto* extra = optional_object(body, "creation_content")) create_content = *extra;
  const auto initial_state = parse_initial_state(body);
  const auto name = optional_string(body, "name");
  const auto topic = optional_string(body, "topic");
  const auto* override_levels = optional_object(body, "power_level_content_override");

  const std::string room_id = matrix::make_room_id(ctx.server_name);
  std::vector<std::string> wake;
  rooms.db().write([&](storage::Transaction& tx) {
    wake.clear();
    tx.exec(
        "INSERT INTO rooms (room_id, room_version, creator, is_public, created_ts) "
        "VALUES ($1, $2, $3, $4, $5)",
        room_id, version_id, who.user_id, visibility == "public", rooms::now_ms());
    auto room = rooms::load_room(tx, room_id, /*lock=*/true);
    auto send = [&](std::string type, std::string state_key, nlohmann::json content) {
      rooms::NewEvent event{.type = std::move(type),
                            .sender = who.user_id,
                            .content = std::move(content),
                            .state_key = std::move(state_key)};
      rooms.send_in(tx, *room, event, wake);
    };
    std::set<std::pair<std::string, std::string>> overridden;
    for (const auto& state : initial_state) overridden.emplace(state.type, state.state_key);
    auto send_preset = [&](std::string type, nlohmann::json content) {
      if (overridden.count({type, ""}) == 0) send(std::move(type), "", std::move(content));
    };

    create_content["room_version"] = version_id;
    if (!version->creator_is_sender) create_content["creator"] = who.user_id;
    send("m.room.create", "", create_content);

    nlohmann::json join = profile_for_member_event(tx, who.user_id);
    join["membership"] = "join";
    send("m.room.member", who.user_id, join);

    nlohmann::json levels = matrix::default_power_levels_content(
        who.user_id, preset.invitees_are_admins ? invites : std::vector<std::string>{});
    if (override_levels != nullptr) {
      for (const auto& [key, value] : override_levels->items()) levels[key] = value;
    }
    send("m.room.power_levels", "", levels);

    if (alias) {
      storage::create_alias(tx, *alias, room_id, who.user_id);
      send("m.room.canonical_alias", "", {{"alias", *alias}});
    }
    send_preset("m.room.join_rules", {{"join_rule", preset.join_rule}});
    send_preset("m.room.history_visibility", {{"history_visibility", preset.history_visibility}});
    if (preset.guest_access)
      send_preset("m.room.guest_access", {{"guest_access", *preset.guest_access}});
    for (const auto& state : initial_state) send(state.type, state.state_key, state.content);
    if (name) send("m.room.name", "", {{"name", *name}});
    if (topic) send("m.room.topic", "", {{"topic", *topic}});
    for (const auto& invitee : invites) {
      nlohmann::json invite = profile_for_member_event(tx, invitee);
      invite["membership"] = "invite";
      if (is_direct) invite["is_direct"] = true;
      send("m.room.member", invitee, invite);
    }
  });
  rooms.wake(wake);
  nlohmann::json out = {{"room_id", room_id}};
  if (alias) out["room_alias"] = *alias;
  return http::Response::json(200, out);
}

}  // namespace

void add_create_room_routes(http::Router& router, Context& ctx) {
  router.add("POST", "/_matrix/client/v3/createRoom",
             [&ctx](http::Request& req) { return create_room(ctx, req); },
             {.body = http::BodyMode::json});
}

}  // namespace eltrix::client
