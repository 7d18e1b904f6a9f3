#include "client/create_room.h"

#include "client/json_body.h"
#include "client/rate_limit_impl.h"
#include "client/room_access.h"
#include "client/user_restrictions.h"
#include "matrix/ids.h"
#include "matrix/room_version.h"

namespace eltrix::client {

namespace {

/// Checked here so a bad request is refused before anything else.
void check_preset(const std::string& name) {
  if (name == "public_chat" || name == "private_chat" || name == "trusted_private_chat") return;
  throw bad_json("'preset' must be private_chat, public_chat or trusted_private_chat");
}

using InitialState = rooms::CreateRoom::State;

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
  const std::string preset = optional_string(body, "preset")
                                 .value_or(visibility == "public" ? "public_chat" : "private_chat");
  check_preset(preset);
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
  // A shadow-banned user's room is made, but nobody is invited to it
  // (client/user_restrictions.h).
  if (!invites.empty() && restrictions_of(ctx, who.user_id).shadow_banned) invites.clear();
  if (const auto* third_party = optional_array(body, "invite_3pid");
      third_party != nullptr && !third_party->empty()) {
    // As /invite's third-party form (client/membership.cpp): 403.
    throw forbidden("Third-party invites (through an identity server) are not supported");
  }
  nlohmann::json create_content = nlohmann::json::object();
  if (const auto* extra = optional_object(body, "creation_content")) create_content = *extra;
  const auto initial_state = parse_initial_state(body);
  const auto name = optional_string(body, "name");
  const auto topic = optional_string(body, "topic");
  const auto* override_levels = optional_object(body, "power_level_content_override");

  const std::string room_id = matrix::make_room_id(ctx.server_name);
  sent_or_throw(ctx.rooms.create_room({.creator = who.user_id,
                                       .room_id = room_id,
                                       .version = version_id,
                                       .is_public = visibility == "public",
                                       .preset = preset,
                                       .is_direct = is_direct,
                                       .alias = alias,
                                       .invites = invites,
                                       .creation_content = create_content,
                                       .initial_state = initial_state,
                                       .name = name,
                                       .topic = topic,
                                       .power_level_override = override_levels}));
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
