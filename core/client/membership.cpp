#include "client/membership.h"

#include "client/json_body.h"
#include "client/rate_limit_impl.h"
#include "client/room_access.h"
#include "client/user_restrictions.h"
#include "matrix/ids.h"
#include "rooms/event_store.h"
#include "rooms/topological.h"
#include "rooms/visibility.h"
#include "storage/directory.h"
#include "sync/token.h"

namespace eltrix::client {

namespace {

/// Sends `membership` for `target` by the requester (rooms/room_service.h:
/// a repeated join or leave is a no-op).
std::string send_membership(Context& ctx, const Requester& who, const std::string& room_id,
                            const std::string& target, const std::string& membership,
                            const nlohmann::json& body, bool unban = false) {
  return sent_or_throw(ctx.rooms.change_membership(
                           {.room_id = room_id,
                            .sender = who.user_id,
                            .target = target,
                            .membership = membership,
                            .reason = optional_string(body, "reason"),
                            .is_direct = membership == "invite" &&
                                         optional_bool(body, "is_direct").value_or(false),
                            .unban = unban}))
      .event_id;
}

std::string resolve_room(Context& ctx, const std::string& id_or_alias) {
  if (matrix::is_valid_room_id(id_or_alias)) return id_or_alias;
  if (!matrix::is_valid_room_alias(id_or_alias)) {
    throw invalid_param("'" + id_or_alias + "' is neither a room ID nor a room alias");
  }
  auto mapping =
      ctx.db.read([&](storage::Transaction& tx) { return storage::get_alias(tx, id_or_alias); });
  if (!mapping) throw not_found("Room alias " + id_or_alias + " not found");
  return mapping->room_id;
}

http::Response join(Context& ctx, http::Request& req, const std::string& room_id) {
  const Requester& who = req.requester();
  if (auto limited = rate_limited(ctx, RateLimitedAction::join, who.user_id)) return *limited;
  // The body's keys other than the request parameters the spec defines go
  // into the member event (spec: /join; Synapse does the same).
  nlohmann::json extra = req.json();
  extra.erase("third_party_signed");
  sent_or_throw(ctx.rooms.change_membership({.room_id = room_id,
                                             .sender = who.user_id,
                                             .target = who.user_id,
                                             .membership = "join",
                                             .reason = optional_string(req.json(), "reason"),
                                             .extra_content = std::move(extra)}));
  return http::Response::json(200, nlohmann::json{{"room_id", room_id}});
}

/// invite, kick, ban, unban: {user_id, reason?}
http::Response act_on_user(Context& ctx, http::Request& req, const std::string& membership,
                           bool unban = false) {
  const Requester& who = req.requester();
  // Each is an event in the room, like a /send.
  if (auto limited = rate_limited(ctx, RateLimitedAction::send, who.user_id)) return *limited;
  const std::string room_id = room_id_param(req);
  // The third-party form of /invite (medium, address, id_server) needs an
  // identity server, which this server does not talk to: refused as the
  // spec's 403 for an invite the server will not make, with a clear message.
  if (membership == "invite" && !req.json().contains("user_id") &&
      (req.json().contains("medium") || req.json().contains("address"))) {
    throw forbidden("Third-party invites (through an identity server) are not supported");
  }
  const std::string target = checked_user_id(require_string(req.json(), "user_id"));
  if (membership == "leave" && !unban && target == who.user_id) {
    throw forbidden("Use /leave to leave a room");
  }
  // A shadow-banned user's invites are dropped without a word.
  if (membership == "invite" && restrictions_of(ctx, who.user_id).shadow_banned) {
    return http::Response::json(200, nlohmann::json::object());
  }
  send_membership(ctx, who, room_id, target, membership, req.json(), unban);
  return http::Response::json(200, nlohmann::json::object());
}

http::Response leave(Context& ctx, http::Request& req) {
  const Requester& who = req.requester();
  const std::string room_id = room_id_param(req);
  // Leaving twice succeeds (clients retry); leaving a room never entered does not.
  send_membership(ctx, who, room_id, who.user_id, "leave", req.json());
  return http::Response::json(200, nlohmann::json::object());
}

http::Response forget(Context& ctx, http::Request& req) {
  const Requester& who = req.requester();
  const std::string room_id = room_id_param(req);
  auto outcome = ctx.rooms.forget(room_id, who.user_id);
  if (outcome.rejection == rooms::Rejection::invalid) {
    throw http::MatrixError(400, "M_UNKNOWN", outcome.reason);
  }
  if (outcome.is_rejected()) throw rejection_error(outcome);
  return http::Response::json(200, nlohmann::json::object());
}

http::Response joined_rooms(Context& ctx, http::Request& req) {
  const Requester& who = req.requester();
  return http::Response::json(
      200, nlohmann::json{{"joined_rooms", ctx.rooms.joined_rooms(who.user_id)}});
}

http::Response members(Context& ctx, http::Request& req) {
  const Requester& who = req.requester();
  const std::string room_id = room_id_param(req);
  const auto membership = req.query("membership");
  const auto not_membership = req.query("not_membership");
  // A sync token names a stream position; a /messages token a point in the
  // room's DAG, whose state is the state after the last event before it
  // (a late, shallow event sits where its depth puts it, not at the end).
  std::optional<std::int64_t> at;
  std::optional<rooms::TopologicalKey> at_key;
  if (auto token = req.query("at")) {
    std::int64_t position = 0;
    if (auto key = rooms::parse_topological_token(*token)) {
      at_key = key;
    } else if (sync::parse_stream_token(*token, position)) {
      at = position;
    } else {
      throw invalid_param("Invalid 'at' token");
    }
  }
  const auto now = rooms::now_ms();
  auto chunk = ctx.db.read([&](storage::Transaction& tx) {
    std::optional<rooms::TopologicalPoint> point;
    if (at_key) {
      point = rooms::last_event_at_or_before(tx, room_id, *at_key);
      at = point ? point->stream : 0;
    }
    // The same rule as GET /state (rooms/visibility.h): now for members, the
    // moment they left for former members; an earlier `at` only where the
    // user could see the room then.
    rooms::Visibility visibility(tx, room_id, who.user_id);
    auto visible = visibility.state_position();
    bool allowed = visible.has_value();
    if (allowed && at && *at < *visible) {
      if (point) {
        // The state after an event of the DAG: judged as /context judges
        // it, by that event's place in the DAG, not by when it arrived.
        auto event = rooms::load_event(tx, point->event_id);
        allowed = event && visibility.can_see_state_after(*event);
      } else if (!at_key) {
        allowed = visibility.can_see_state_at(*at);
      }  // else: before the room's first event, an empty state
    }
    if (!allowed) {
      tx.need_primary();  // a replica may not have replayed the membership yet
      throw forbidden("You are not a member of room " + room_id);
    }
    std::vector<rooms::StoredEvent> state;
    if (at_key && *at < *visible) {
      if (point) state = rooms::state_after_event(tx, point->event_id);
    } else {
      const std::int64_t position = at ? std::min(*visible, *at) : *visible;
      state = position == rooms::kCurrentState ? rooms::current_state(tx, room_id)
                                               : rooms::state_at(tx, room_id, position);
    }
    nlohmann::json out = nlohmann::json::array();
    for (const auto& event : state) {
      if (event.type() != "m.room.member") continue;
      const std::string m = event.membership();
      if (membership && m != *membership) continue;
      if (not_membership && m == *not_membership) continue;
      out.push_back(rooms::client_event(event, who.user_id, who.device_id, now));
    }
    return out;
  });
  return http::Response::json(200, nlohmann::json{{"chunk", chunk}});
}

http::Response joined_members(Context& ctx, http::Request& req) {
  const Requester& who = req.requester();
  const std::string room_id = room_id_param(req);
  auto joined = ctx.db.read([&](storage::Transaction& tx) {
    require_joined(tx, room_id, who.user_id);
    nlohmann::json out = nlohmann::json::object();
    for (const auto& event : rooms::current_state(tx, room_id)) {
      if (event.type() != "m.room.member" || event.membership() != "join") continue;
      const auto& content = event.pdu["content"];
      nlohmann::json entry = nlohmann::json::object();
      if (content.contains("displayname")) entry["display_name"] = content["displayname"];
      if (content.contains("avatar_url")) entry["avatar_url"] = content["avatar_url"];
      out[event.state_key()] = entry;
    }
    return out;
  });
  return http::Response::json(200, nlohmann::json{{"joined", joined}});
}

}  // namespace

void add_membership_routes(http::Router& router, Context& ctx) {
  const http::RouteOptions json{.body = http::BodyMode::json};
  router.add(
      "POST", "/_matrix/client/v3/rooms/{roomId}/join",
      [&ctx](http::Request& req) { return join(ctx, req, room_id_param(req)); }, json);
  router.add(
      "POST", "/_matrix/client/v3/join/{roomIdOrAlias}",
      [&ctx](http::Request& req) {
        return join(ctx, req, resolve_room(ctx, std::string(req.path_param("roomIdOrAlias"))));
      },
      json);
  router.add(
      "POST", "/_matrix/client/v3/rooms/{roomId}/invite",
      [&ctx](http::Request& req) { return act_on_user(ctx, req, "invite"); }, json);
  router.add(
      "POST", "/_matrix/client/v3/rooms/{roomId}/kick",
      [&ctx](http::Request& req) { return act_on_user(ctx, req, "leave"); }, json);
  router.add(
      "POST", "/_matrix/client/v3/rooms/{roomId}/ban",
      [&ctx](http::Request& req) { return act_on_user(ctx, req, "ban"); }, json);
  router.add(
      "POST", "/_matrix/client/v3/rooms/{roomId}/unban",
      [&ctx](http::Request& req) { return act_on_user(ctx, req, "leave", true); }, json);
  router.add(
      "POST", "/_matrix/client/v3/rooms/{roomId}/leave",
      [&ctx](http::Request& req) { return leave(ctx, req); }, json);
  router.add(
      "POST", "/_matrix/client/v3/rooms/{roomId}/forget",
      [&ctx](http::Request& req) { return forget(ctx, req); }, json);
  router.add("GET", "/_matrix/client/v3/joined_rooms",
             [&ctx](http::Request& req) { return joined_rooms(ctx, req); });
  router.add("GET", "/_matrix/client/v3/rooms/{roomId}/members",
             [&ctx](http::Request& req) { return members(ctx, req); });
  router.add("GET", "/_matrix/client/v3/rooms/{roomId}/joined_members",
             [&ctx](http::Request& req) { return joined_members(ctx, req); });
}

}  // namespace eltrix::client
