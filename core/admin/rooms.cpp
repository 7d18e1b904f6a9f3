// Rooms: Synapse's room admin API (docs/admin-api.md, "Rooms"): list,
// details, members, state, block, make room admin, forward extremities.
// Reads come from storage/admin_rooms.h; every change to a room goes
// through the room service (events through the one pipeline).
#include "admin/areas.h"
#include "admin/params.h"
#include "log/log.h"
#include "matrix/ids.h"
#include "matrix/power_levels.h"
#include "rooms/room_service.h"
#include "storage/accounts.h"
#include "storage/admin_rooms.h"
#include "storage/directory.h"

#include <algorithm>
#include <map>

namespace eltrix::admin {
namespace {

const log::Logger& logger() {
  static const log::Logger instance("admin");
  return instance;
}

template <typename T>
nlohmann::json or_null(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

nlohmann::json room_json(const storage::AdminRoom& room) {
  return {{"room_id", room.room_id},
          {"name", or_null(room.name)},
          {"canonical_alias", or_null(room.canonical_alias)},
          {"joined_members", room.joined_members},
          {"joined_local_members", room.joined_local_members},
          {"version", room.version},
          {"creator", room.creator},
          {"encryption", or_null(room.encryption)},
          {"federatable", room.federatable},
          {"public", room.is_public},
          {"join_rules", or_null(room.join_rules)},
          {"guest_access", or_null(room.guest_access)},
          {"history_visibility", or_null(room.history_visibility)},
          {"state_events", room.state_events},
          {"room_type", or_null(room.room_type)}};
}

const std::map<std::string, storage::RoomOrder, std::less<>>& room_orders() {
  using O = storage::RoomOrder;
  static const std::map<std::string, O, std::less<>> orders = {
      {"name", O::name},
      {"alphabetical", O::name},
      {"size", O::joined_members},
      {"canonical_alias", O::canonical_alias},
      {"joined_members", O::joined_members},
      {"joined_local_members", O::joined_local_members},
      {"version", O::version},
      {"creator", O::creator},
      {"encryption", O::encryption},
      {"federatable", O::federatable},
      {"public", O::is_public},
      {"join_rules", O::join_rules},
      {"guest_access", O::guest_access},
      {"history_visibility", O::history_visibility},
      {"state_events", O::state_events},
  };
  return orders;
}

storage::AdminRoom require_room(Context& ctx, const std::string& room_id) {
  auto room = ctx.db.write([&](storage::Transaction& tx) {
    return storage::find_admin_room(tx, room_id, ctx.server_name);
  });
  if (!room) throw not_found("Room not found");
  return *room;
}

http::Response list_rooms(Context& ctx, http::Request& req) {
  storage::RoomListQuery query;
  const Page page = query_page(req);
  query.from = page.from;
  query.limit = page.limit;
  if (auto order = req.query("order_by")) {
    auto it = room_orders().find(*order);
    if (it == room_orders().end()) throw invalid_param("Unknown value for order_by: " + *order);
    query.order = it->second;
  }
  query.backwards = query_backwards(req);
  if (auto term = req.query("search_term")) {
    if (term->empty()) throw invalid_param("search_term cannot be empty");
    if (term->size() > 256) throw invalid_param("search_term is too long");
    query.search_term = *term;
  }
  auto result = ctx.db.read(
      [&](storage::Transaction& tx) { return storage::list_rooms(tx, query, ctx.server_name); });
  nlohmann::json rooms = nlohmann::json::array();
  for (const auto& room : result.rooms) rooms.push_back(room_json(room));
  nlohmann::json out = {{"rooms", rooms}, {"offset", query.from}, {"total_rooms", result.total}};
  const std::int64_t next = query.from + static_cast<std::int64_t>(result.rooms.size());
  if (next < result.total && !result.rooms.empty()) out["next_batch"] = next;
  if (query.from > 0) out["prev_batch"] = std::max<std::int64_t>(0, query.from - query.limit);
  return http::Response::json(200, out);
}

http::Response get_room(Context& ctx, http::Request& req) {
  auto room = require_room(ctx, room_param(req));
  nlohmann::json out = room_json(room);
  out["avatar"] = or_null(room.avatar);
  out["topic"] = or_null(room.topic);
  // Eltrix does not track which rooms every local user forgot apart from
  // their membership rows; a room stays known while it has any.
  out["forgotten"] = false;
  return http::Response::json(200, out);
}

http::Response get_members(Context& ctx, http::Request& req) {
  const std::string room_id = room_param(req);
  (void)require_room(ctx, room_id);
  auto members =
      ctx.db.read([&](storage::Transaction& tx) { return storage::joined_members(tx, room_id); });
  const auto total = members.size();
  return http::Response::json(200, nlohmann::json{{"members", members}, {"total", total}});
}

http::Response get_state(Context& ctx, http::Request& req) {
  const std::string room_id = room_param(req);
  (void)require_room(ctx, room_id);
  return http::Response::json(200,
                              nlohmann::json{{"state", ctx.rooms.current_state_events(room_id)}});
}

http::Response get_block(Context& ctx, http::Request& req) {
  const std::string room_id = room_param(req);
  auto by =
      ctx.db.read([&](storage::Transaction& tx) { return storage::room_blocked_by(tx, room_id); });
  nlohmann::json out = {{"block", by.has_value()}};
  if (by) out["user_id"] = *by;
  return http::Response::json(200, out);
}

http::Response put_block(Context& ctx, http::Request& req) {
  const std::string room_id = room_param(req);
  auto block = body_bool(req.json(), "block");
  if (!block) throw http::MatrixError(400, "M_BAD_JSON", "block must be a boolean");
  ctx.db.write([&](storage::Transaction& tx) {
    if (*block) {
      storage::block_room(tx, room_id, req.requester().user_id, storage::now_ms());
    } else {
      storage::unblock_room(tx, room_id);
    }
  });
  return http::Response::json(200, nlohmann::json{{"block", *block}});
}

/// The local joined member with the highest power level: who can raise
/// another user's level (Synapse's rule for make_room_admin).
std::optional<std::pair<std::string, std::int64_t>> local_room_admin(
    const matrix::PowerLevels& levels, const std::vector<std::string>& joined,
    const std::string& server_name) {
  std::optional<std::pair<std::string, std::int64_t>> best;
  for (const auto& user : joined) {
    if (matrix::server_of(user) != server_name) continue;
    const auto level = levels.user_level(user);
    if (!best || level > best->second) best = {user, level};
  }
  return best;
}

[[noreturn]] void refused(const rooms::Outcome& outcome) {
  throw http::MatrixError(400, "M_UNKNOWN", "The room refused the change: " + outcome.reason);
}

http::Response make_room_admin(Context& ctx, http::Request& req) {
  const std::string room_id = room_param(req);
  const nlohmann::json body = body_object(req);
  const std::string target = body_string(body, "user_id", 255).value_or(req.requester().user_id);
  if (!matrix::parse_user_id(target) || matrix::server_of(target) != ctx.server_name) {
    throw invalid_param("Only local users can be admins of rooms on this server");
  }
  auto room = require_room(ctx, room_id);
  auto joined =
      ctx.db.read([&](storage::Transaction& tx) { return storage::joined_members(tx, room_id); });
  auto pl_event = ctx.rooms.current_state_event(room_id, "m.room.power_levels", "");
  const nlohmann::json* content = pl_event ? &(*pl_event)["content"] : nullptr;
  auto levels = matrix::PowerLevels::parse(content, room.creator);
  if (!levels) throw invalid_param("The room's power levels cannot be read");
  auto admin = local_room_admin(*levels, joined, ctx.server_name);
  if (!admin || admin->second < levels->event_level("m.room.power_levels", true)) {
    throw invalid_param("No local admin user in room with power to update power levels.");
  }
  const auto& [acting, level] = *admin;
  // In first, through the acting admin, if the target is not a member.
  const bool member = std::find(joined.begin(), joined.end(), target) != joined.end();
  if (!member) {
    auto invite = ctx.rooms.change_membership(
        {.room_id = room_id, .sender = acting, .target = target, .membership = "invite"});
    if (invite.outcome.is_rejected()) refused(invite.outcome);
    auto join = ctx.rooms.change_membership(
        {.room_id = room_id, .sender = target, .target = target, .membership = "join"});
    if (join.outcome.is_rejected()) refused(join.outcome);
  }
  nlohmann::json new_content =
      content ? *content : nlohmann::json{{"users", {{room.creator, 100}}}};
  if (!new_content.contains("users") || !new_content["users"].is_object()) {
    new_content["users"] = nlohmann::json::object();
  }
  new_content["users"][target] = level;
  auto sent = ctx.rooms.send(room_id, {.type = "m.room.power_levels",
                                       .sender = acting,
                                       .content = new_content,
                                       .state_key = std::string()});
  if (sent.outcome.is_rejected()) refused(sent.outcome);
  logger().info("made room admin", {{"room_id", room_id}, {"user_id", target}, {"by", acting}});
  return http::Response::json(200, nlohmann::json::object());
}

/// POST /_synapse/admin/v1/join/{roomIdOrAlias} {user_id}: makes a local
/// user join. A room the user may not join by themself (not public, not
/// invited) needs the calling admin in it, to invite them first, as Synapse
/// requires.
http::Response force_join(Context& ctx, http::Request& req) {
  const std::string target = body_string(req.json(), "user_id", 255).value_or("");
  if (!matrix::parse_user_id(target) || matrix::server_of(target) != ctx.server_name) {
    throw invalid_param("This endpoint can only be used with local users");
  }
  std::string room_id(req.path_param("roomIdOrAlias"));
  const bool known =
      ctx.db.read([&](storage::Transaction& tx) { return storage::user_exists(tx, target); });
  if (!known) throw not_found("User not found");
  if (matrix::is_valid_room_alias(room_id)) {
    auto mapping =
        ctx.db.read([&](storage::Transaction& tx) { return storage::get_alias(tx, room_id); });
    if (!mapping) throw not_found("Room alias " + room_id + " not found");
    room_id = mapping->room_id;
  } else if (!matrix::is_valid_room_id(room_id)) {
    throw invalid_param(room_id + " was not legal room ID or room alias");
  }
  (void)require_room(ctx, room_id);
  auto join = [&] {
    return ctx.rooms.change_membership(
        {.room_id = room_id, .sender = target, .target = target, .membership = "join"});
  };
  auto joined = join();
  if (joined.outcome.is_rejected() && joined.outcome.rejection == rooms::Rejection::forbidden) {
    const std::string& admin = req.requester().user_id;
    auto members =
        ctx.db.read([&](storage::Transaction& tx) { return storage::joined_members(tx, room_id); });
    if (std::find(members.begin(), members.end(), admin) == members.end()) {
      throw http::MatrixError(403, "M_FORBIDDEN",
                              "The room is not public and you are not in it to invite the user");
    }
    auto invite = ctx.rooms.change_membership(
        {.room_id = room_id, .sender = admin, .target = target, .membership = "invite"});
    if (invite.outcome.is_rejected()) refused(invite.outcome);
    joined = join();
  }
  if (joined.outcome.is_rejected()) refused(joined.outcome);
  return http::Response::json(200, nlohmann::json{{"room_id", room_id}});
}

http::Response get_extremities(Context& ctx, http::Request& req) {
  const std::string room_id = room_param(req);
  (void)require_room(ctx, room_id);
  nlohmann::json results = nlohmann::json::array();
  for (const auto& e : ctx.rooms.forward_extremities(room_id)) {
    results.push_back({{"event_id", e.event_id},
                       {"state_group", or_null(e.state_group)},
                       {"depth", e.depth},
                       {"received_ts", e.received_ts}});
  }
  const auto count = results.size();
  return http::Response::json(200, nlohmann::json{{"count", count}, {"results", results}});
}

http::Response delete_extremities(Context& ctx, http::Request& req) {
  const std::string room_id = room_param(req);
  (void)require_room(ctx, room_id);
  return http::Response::json(
      200, nlohmann::json{{"deleted", ctx.rooms.trim_forward_extremities(room_id)}});
}

}  // namespace

void add_room_routes(http::Router& router, Context& ctx) {
  const AreaRoutes on(router, ctx);
  using enum http::BodyMode;
  on("GET", "/_synapse/admin/v1/rooms", list_rooms, none);
  on("GET", "/_synapse/admin/v1/rooms/{roomId}", get_room, none);
  on("GET", "/_synapse/admin/v1/rooms/{roomId}/members", get_members, none);
  on("GET", "/_synapse/admin/v1/rooms/{roomId}/state", get_state, none);
  on("GET", "/_synapse/admin/v1/rooms/{roomId}/block", get_block, none);
  on("PUT", "/_synapse/admin/v1/rooms/{roomId}/block", put_block, json);
  on("POST", "/_synapse/admin/v1/rooms/{roomId}/make_room_admin", make_room_admin, raw);
  on("GET", "/_synapse/admin/v1/rooms/{roomId}/forward_extremities", get_extremities, none);
  on("POST", "/_synapse/admin/v1/join/{roomIdOrAlias}", force_join, json);
  on("DELETE", "/_synapse/admin/v1/rooms/{roomId}/forward_extremities", delete_extremities, none);
}

}  // namespace eltrix::admin
