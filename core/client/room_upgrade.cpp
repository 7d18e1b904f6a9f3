#include "client/room_upgrade.h"

#include "client/json_body.h"
#include "client/rate_limit_impl.h"
#include "client/room_access.h"
#include "matrix/ids.h"
#include "matrix/power_levels.h"
#include "matrix/room_version.h"
#include "rooms/event_store.h"
#include "rooms/room_service.h"
#include "storage/directory.h"

#include <algorithm>

namespace eltrix::client {

namespace {

/// The spec's transferable state (type, state_key ""), in the order sent.
/// Power levels go through createRoom's override; the canonical alias is
/// sent once the aliases point at the new room (it is checked against them).
constexpr const char* kCopiedTypes[] = {"m.room.server_acl",
                                        "m.room.encryption",
                                        "m.room.name",
                                        "m.room.avatar",
                                        "m.room.topic",
                                        "m.room.guest_access",
                                        "m.room.history_visibility",
                                        "m.room.join_rules"};

/// Bans copied at most: a room with more is still upgraded, with the rest
/// left for its moderators (each ban is an event in the new room).
constexpr std::size_t kMaxBansCopied = 1000;

/// What the upgrade reads from the old room, in one read transaction.
struct OldRoom {
  rooms::RoomInfo info;
  nlohmann::json create_content = nlohmann::json::object();
  std::optional<nlohmann::json> power_levels;
  std::vector<rooms::CreateRoom::State> copied;
  std::optional<nlohmann::json> canonical_alias;
  std::vector<std::string> bans;
  std::vector<std::string> local_aliases;
  bool is_public = false;
  std::string last_event_id;
};

OldRoom read_old_room(Context& ctx, const std::string& room_id, const std::string& user_id) {
  return ctx.db.read([&](storage::Transaction& tx) {
    tx.need_primary();  // decided on the newest state: the upgrade writes from it
    auto info = rooms::load_room(tx, room_id);
    if (!info) throw forbidden("You are not in room " + room_id);
    require_joined(tx, room_id, user_id);
    OldRoom old;
    old.info = *info;
    for (const auto& event : rooms::current_state(tx, room_id)) {
      const auto content = event.pdu.value("content", nlohmann::json::object());
      const std::string& type = event.type();
      if (type == "m.room.create") {
        old.create_content = content;
      } else if (type == "m.room.power_levels") {
        old.power_levels = content;
      } else if (type == "m.room.canonical_alias") {
        old.canonical_alias = content;
      } else if (type == "m.room.member") {
        if (event.membership() == "ban" && old.bans.size() < kMaxBansCopied) {
          old.bans.push_back(event.state_key());
        }
      } else if (event.state_key().empty() &&
                 std::find_if(std::begin(kCopiedTypes), std::end(kCopiedTypes),
                              [&](auto t) { return type == t; }) != std::end(kCopiedTypes)) {
        old.copied.push_back({type, "", content});
      }
    }
    old.local_aliases = storage::room_aliases(tx, room_id);
    if (auto room = storage::get_directory_room(tx, room_id)) old.is_public = room->is_public;
    auto last = tx.exec1(
        "SELECT event_id FROM events WHERE room_id = $1 ORDER BY stream_ordering DESC LIMIT 1",
        room_id);
    old.last_event_id = last[0].as<std::string>();
    return old;
  });
}

/// The old room made read-only for ordinary members: events_default and
/// invite raised to max(50, users_default + 1) when lower (Synapse's rule).
std::optional<nlohmann::json> restricted_levels(const nlohmann::json& content,
                                                const matrix::PowerLevels& levels) {
  const std::int64_t restricted = std::max<std::int64_t>(50, levels.users_default + 1);
  nlohmann::json out = content;
  bool changed = false;
  if (levels.events_default < restricted) {
    out["events_default"] = restricted;
    changed = true;
  }
  if (levels.invite < restricted) {
    out["invite"] = restricted;
    changed = true;
  }
  return changed ? std::optional(out) : std::nullopt;
}

http::Response upgrade(Context& ctx, http::Request& req) {
  const Requester& who = req.requester();
  const std::string old_id = room_id_param(req);
  // An upgrade makes a room: it counts against createRoom's limit.
  if (auto limited = rate_limited(ctx, RateLimitedAction::create_room, who.user_id)) {
    return *limited;
  }
  const std::string new_version = require_string(req.json(), "new_version");
  if (matrix::find_room_version(new_version) == nullptr) {
    throw http::MatrixError(400, "M_UNSUPPORTED_ROOM_VERSION",
                            "Room version '" + new_version + "' is not supported");
  }
  OldRoom old = read_old_room(ctx, old_id, who.user_id);

  // The power to send the tombstone decides (spec); checked before anything
  // is created, so a refused upgrade leaves no room behind.
  const auto levels =
      matrix::PowerLevels::parse(old.power_levels ? &*old.power_levels : nullptr, old.info.creator);
  if (!levels || levels->user_level(who.user_id) < levels->event_level("m.room.tombstone", true)) {
    throw forbidden("You may not upgrade room " + old_id);
  }

  // The new room's power levels are the old ones; the upgrader needs enough
  // to send every state event copied (and the bans), so they get the
  // highest level those need for as long as the copying takes, and the old
  // levels are put back exactly at the end (as Synapse does).
  nlohmann::json new_levels =
      old.power_levels.value_or(matrix::default_power_levels_content(who.user_id, {}));
  std::int64_t needed = std::max(levels->ban, levels->state_default);
  for (const auto& [type, level] : levels->events) needed = std::max(needed, level);
  const bool raised = levels->user_level(who.user_id) < needed;
  nlohmann::json while_copying = new_levels;
  if (raised) while_copying["users"][who.user_id] = needed;

  nlohmann::json creation = nlohmann::json::object();
  // Only what describes the room itself carries over: its type (a space
  // stays a space) and m.federate.
  for (const char* key : {"type", "m.federate"}) {
    if (old.create_content.contains(key)) creation[key] = old.create_content[key];
  }
  creation["predecessor"] = {{"room_id", old_id}, {"event_id", old.last_event_id}};
  bool has_join_rules = false;
  for (const auto& state : old.copied) has_join_rules |= state.type == "m.room.join_rules";
  // spec: no join rules event means "invite".
  if (!has_join_rules) old.copied.push_back({"m.room.join_rules", "", {{"join_rule", "invite"}}});

  const std::string new_id = matrix::make_room_id(ctx.server_name);
  // public_chat: the preset whose defaults add nothing the copied state
  // does not override (no guest_access of its own).
  rooms::CreateRoom create;
  create.creator = who.user_id;
  create.room_id = new_id;
  create.version = new_version;
  create.preset = "public_chat";
  create.creation_content = creation;
  create.initial_state = old.copied;
  create.power_level_override = &while_copying;
  sent_or_throw(ctx.rooms.create_room(create));
  for (const auto& banned : old.bans) {
    ctx.rooms.change_membership(
        {.room_id = new_id, .sender = who.user_id, .target = banned, .membership = "ban"});
  }
  if (raised) {
    sent_or_throw(ctx.rooms.send(new_id, {.type = "m.room.power_levels",
                                          .sender = who.user_id,
                                          .content = new_levels,
                                          .state_key = ""}));
  }

  // The tombstone: from here on clients follow the upgrade.
  sent_or_throw(ctx.rooms.send(
      old_id, {.type = "m.room.tombstone",
               .sender = who.user_id,
               .content = {{"body", "This room has been replaced"}, {"replacement_room", new_id}},
               .state_key = ""}));

  // Aliases and the directory listing move to the new room, then the
  // canonical alias follows them (it must name aliases of its room).
  ctx.db.write([&](storage::Transaction& tx) {
    tx.exec("UPDATE room_aliases SET room_id = $2 WHERE room_id = $1", old_id, new_id);
    if (old.is_public) {
      storage::set_room_public(tx, old_id, false);
      storage::set_room_public(tx, new_id, true);
    }
  });
  if (old.canonical_alias) {
    nlohmann::json moved = nlohmann::json::object();
    auto is_local = [&](const nlohmann::json& alias) {
      return alias.is_string() && std::find(old.local_aliases.begin(), old.local_aliases.end(),
                                            alias.get<std::string>()) != old.local_aliases.end();
    };
    if (old.canonical_alias->contains("alias") && is_local((*old.canonical_alias)["alias"])) {
      moved["alias"] = (*old.canonical_alias)["alias"];
    }
    if (auto alt = old.canonical_alias->find("alt_aliases");
        alt != old.canonical_alias->end() && alt->is_array()) {
      nlohmann::json kept = nlohmann::json::array();
      for (const auto& alias : *alt) {
        if (is_local(alias)) kept.push_back(alias);
      }
      if (!kept.empty()) moved["alt_aliases"] = kept;
    }
    if (!moved.empty()) {
      ctx.rooms.send(new_id, {.type = "m.room.canonical_alias",
                              .sender = who.user_id,
                              .content = moved,
                              .state_key = ""});
    }
    // The old room names no alias any more (they point elsewhere now).
    ctx.rooms.send(old_id, {.type = "m.room.canonical_alias",
                            .sender = who.user_id,
                            .content = nlohmann::json::object(),
                            .state_key = ""});
  }
  // Read-only for ordinary members; a user allowed the tombstone but not
  // the power levels leaves them as they are (Synapse goes on too).
  if (auto restricted =
          restricted_levels(old.power_levels.value_or(nlohmann::json::object()), *levels)) {
    ctx.rooms.send(old_id, {.type = "m.room.power_levels",
                            .sender = who.user_id,
                            .content = *restricted,
                            .state_key = ""});
  }
  return http::Response::json(200, nlohmann::json{{"replacement_room", new_id}});
}

}  // namespace

void add_room_upgrade_routes(http::Router& router, Context& ctx) {
  router.add(
      "POST", "/_matrix/client/v3/rooms/{roomId}/upgrade",
      [&ctx](http::Request& req) { return upgrade(ctx, req); },
      http::RouteOptions{.body = http::BodyMode::json});
}

}  // namespace eltrix::client
