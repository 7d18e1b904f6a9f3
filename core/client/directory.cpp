#include "client/directory.h"

#include "client/auth.h"
#include "client/json_body.h"
#include "client/room_access.h"
#include "errors/error.h"
#include "log/log.h"
#include "matrix/ids.h"
#include "matrix/power_levels.h"
#include "rooms/room_service.h"
#include "rooms/visibility.h"
#include "storage/database.h"
#include "storage/directory.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>

namespace eltrix::client {

namespace {

constexpr std::string_view kCanonicalAlias = "m.room.canonical_alias";

/// The alias from the path, which must be a valid alias (400 M_INVALID_PARAM).
std::string path_alias(const http::Request& req) {
  std::string alias(req.path_param("roomAlias"));
  if (!matrix::is_valid_room_alias(alias)) throw invalid_param("Room alias invalid");
  return alias;
}

bool is_local_alias(std::string_view alias, const Context& ctx) {
  const auto colon = alias.find(':');
  return colon != std::string_view::npos && alias.substr(colon + 1) == ctx.server_name;
}

/// Whether `user_id` may manage the room's directory entries: joined, with
/// the power to send m.room.canonical_alias (the event that publishes
/// aliases, so the same people curate the directory).
bool can_manage_directory(storage::Transaction& tx, std::string_view room_id,
                          const storage::DirectoryRoom& room, std::string_view user_id) {
  if (storage::membership_of(tx, room_id, user_id) != "join") return false;
  auto content = storage::current_state_content(tx, room_id, "m.room.power_levels", "");
  auto levels = matrix::PowerLevels::parse(content ? &*content : nullptr, room.creator);
  // Stored power levels that do not parse grant nothing: refusing is the
  // safe reading of a state the auth rules would not have accepted.
  if (!levels) return false;
  return levels->user_level(user_id) >= levels->event_level(kCanonicalAlias, true);
}

http::Response put_alias(Context& ctx, http::Request& req) {
  const Requester& who = req.requester();
  const std::string alias = path_alias(req);
  if (!is_local_alias(alias, ctx)) {
    throw invalid_param(fmt::format("Room alias must be on this server ({})", ctx.server_name));
  }
  const std::string room_id = require_string(req.json(), "room_id");
  if (!matrix::is_valid_room_id(room_id)) throw invalid_param("'room_id' is not a valid room ID");

  ctx.db.write([&](storage::Transaction& tx) {
    auto room = storage::get_directory_room(tx, room_id);
    if (!room) throw not_found("Room not found");
    // As Synapse does by default: only members name a room, so nobody can
    // squat names pointing at rooms they are not part of. Server admins may.
    if (!who.admin && storage::membership_of(tx, room_id, who.user_id) != "join") {
      throw forbidden("You must be joined to the room to create an alias for it");
    }
    if (!storage::insert_alias(tx, alias, room_id, who.user_id)) {
      throw http::MatrixError(409, "M_UNKNOWN", fmt::format("Room alias {} already exists", alias));
    }
  });
  return http::Response::json(200, nlohmann::json::object());
}

http::Response get_alias(Context& ctx, http::Request& req) {
  const std::string alias = path_alias(req);
  // Other servers' aliases need a federation query, which this server does
  // not make yet; for now they are simply unknown here.
  // Read on the primary: a client that has just created the alias must find
  // it, and this is a single primary-key lookup.
  auto mapping =
      ctx.db.write([&](storage::Transaction& tx) { return storage::get_alias(tx, alias); });
  if (!mapping) throw not_found(fmt::format("Room alias {} not found", alias));
  return http::Response::json(
      200, nlohmann::json{{"room_id", mapping->room_id}, {"servers", {ctx.server_name}}});
}

/// Drops `alias` from the room's m.room.canonical_alias, as the spec lets a
/// server do when an alias is deleted, so the room stops advertising a name
/// that no longer leads to it. Sent as the deleting user; when they may not
/// send the event the alias stays deleted anyway (the spec's recommendation).
void unpublish_alias(Context& ctx, const std::string& room_id, const std::string& alias,
                     const std::string& user_id) {
  auto event = ctx.rooms.current_state_event(room_id, std::string(kCanonicalAlias), "");
  if (!event || !event->contains("content") || !(*event)["content"].is_object()) return;
  nlohmann::json content = (*event)["content"];
  bool changed = false;
  if (auto it = content.find("alias"); it != content.end() && *it == alias) {
    content.erase(it);
    changed = true;
  }
  if (auto it = content.find("alt_aliases"); it != content.end() && it->is_array()) {
    const auto before = it->size();
    it->erase(std::remove(it->begin(), it->end(), nlohmann::json(alias)), it->end());
    changed = changed || it->size() != before;
  }
  if (!changed) return;
  static const log::Logger logger("client");
  try {
    sent_or_throw(ctx.rooms.send(room_id, {.type = std::string(kCanonicalAlias),
                                           .sender = user_id,
                                           .content = content,
                                           .state_key = ""}));
  } catch (const http::MatrixError& e) {
    logger.info("alias deleted; canonical alias event left as it is",
                {{"room_id", room_id}, {"alias", alias}, {"reason", e.what()}});
  } catch (const std::exception& e) {
    // The alias is gone already; failing the request now would make the
    // client retry a deletion that succeeded.
    logger.warn("alias deleted; updating the canonical alias event failed",
                {{"room_id", room_id}, {"alias", alias}, {"error", e.what()}});
  }
}

http::Response delete_alias(Context& ctx, http::Request& req) {
  const Requester& who = req.requester();
  const std::string alias = path_alias(req);
  const std::string room_id = ctx.db.write([&](storage::Transaction& tx) {
    auto mapping = storage::get_alias(tx, alias);
    if (!mapping) throw not_found(fmt::format("Room alias {} not found", alias));
    // The spec leaves the checks to the server: the alias's creator, a
    // server admin, or whoever may curate the room's aliases in the room.
    bool allowed = who.admin || mapping->creator == who.user_id;
    if (!allowed) {
      auto room = storage::get_directory_room(tx, mapping->room_id);
      allowed = room && can_manage_directory(tx, mapping->room_id, *room, who.user_id);
    }
    if (!allowed) throw forbidden("You may not delete this alias");
    storage::delete_alias(tx, alias);
    return mapping->room_id;
  });
  unpublish_alias(ctx, room_id, alias, who.user_id);
  return http::Response::json(200, nlohmann::json::object());
}

http::Response get_room_aliases(Context& ctx, http::Request& req) {
  const Requester& who = req.requester();
  const std::string room_id(req.path_param("roomId"));
  if (!matrix::is_valid_room_id(room_id)) throw invalid_param("Room ID invalid");
  auto aliases = ctx.db.write([&](storage::Transaction& tx) {
    // Unknown rooms answer like rooms one is not in, so the answer does not
    // reveal which room IDs exist.
    // Members and, in a world-readable room, anyone: those who may read the
    // current state (the one visibility check, rooms/visibility.h).
    bool allowed =
        rooms::Visibility(tx, room_id, who.user_id).state_position() == rooms::kCurrentState;
    if (!allowed && who.admin) allowed = storage::get_directory_room(tx, room_id).has_value();
    if (!allowed) throw forbidden("You are not a member of the room");
    return storage::room_aliases(tx, room_id);
  });
  return http::Response::json(200, nlohmann::json{{"aliases", aliases}});
}

http::Response get_visibility(Context& ctx, http::Request& req) {
  const std::string room_id(req.path_param("roomId"));
  auto room = ctx.db.write(
      [&](storage::Transaction& tx) { return storage::get_directory_room(tx, room_id); });
  if (!room) throw not_found("Room not found");
  return http::Response::json(
      200, nlohmann::json{{"visibility", room->is_public ? "public" : "private"}});
}

http::Response put_visibility(Context& ctx, http::Request& req) {
  const Requester& who = req.requester();
  const std::string room_id(req.path_param("roomId"));
  // The spec's default when the body leaves it out.
  const std::string visibility = optional_string(req.json(), "visibility").value_or("public");
  if (visibility != "public" && visibility != "private") {
    throw invalid_param("'visibility' must be \"public\" or \"private\"");
  }
  ctx.db.write([&](storage::Transaction& tx) {
    auto room = storage::get_directory_room(tx, room_id);
    if (!room) throw not_found("Room not found");
    if (!who.admin && !can_manage_directory(tx, room_id, *room, who.user_id)) {
      throw forbidden("You need the power to send m.room.canonical_alias to publish this room");
    }
    storage::set_room_public(tx, room_id, visibility == "public");
  });
  return http::Response::json(200, nlohmann::json::object());
}

}  // namespace

void add_directory_routes(http::Router& router, Context& ctx) {
  const std::string alias_path = "/_matrix/client/v3/directory/room/{roomAlias}";
  router.add("PUT", alias_path, [&ctx](http::Request& req) { return put_alias(ctx, req); },
             {.body = http::BodyMode::json});
  router.add("GET", alias_path, [&ctx](http::Request& req) { return get_alias(ctx, req); },
             {.auth = http::Auth::none});
  router.add("DELETE", alias_path, [&ctx](http::Request& req) { return delete_alias(ctx, req); });
  router.add("GET", "/_matrix/client/v3/rooms/{roomId}/aliases",
             [&ctx](http::Request& req) { return get_room_aliases(ctx, req); });

  const std::string list_path = "/_matrix/client/v3/directory/list/room/{roomId}";
  router.add("GET", list_path, [&ctx](http::Request& req) { return get_visibility(ctx, req); },
             {.auth = http::Auth::none});
  router.add("PUT", list_path, [&ctx](http::Request& req) { return put_visibility(ctx, req); },
             {.body = http::BodyMode::json});
}

}  // namespace eltrix::client
