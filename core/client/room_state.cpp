#include "client/room_state.h"

#include "client/json_body.h"
#include "client/rate_limit.h"
#include "client/room_access.h"
#include "client/user_restrictions.h"
#include "rooms/visibility.h"

namespace eltrix::client {

namespace {

/// The state the requester may read (spec: GET /state): the current state
/// for members and in world-readable rooms, the state when they left for
/// former members, 403 for everyone else (rooms/visibility.h).
std::vector<rooms::StoredEvent> visible_state(storage::Transaction& tx, const std::string& room_id,
                                              const std::string& user_id) {
  rooms::Visibility visibility(tx, room_id, user_id);
  auto position = visibility.state_position();
  if (!position) {
    tx.need_primary();  // a replica may not have replayed the membership yet
    throw forbidden("You are not a member of room " + room_id);
  }
  if (*position == rooms::kCurrentState) return rooms::current_state(tx, room_id);
  return rooms::state_at(tx, room_id, *position);
}

http::Response get_all_state(Context& ctx, http::Request& req) {
  const Requester& who = req.requester();
  const std::string room_id = room_id_param(req);
  const auto now = rooms::now_ms();
  auto out = ctx.db.read([&](storage::Transaction& tx) {
    nlohmann::json events = nlohmann::json::array();
    for (const auto& event : visible_state(tx, room_id, who.user_id)) {
      events.push_back(rooms::client_event(event, who.user_id, who.device_id, now));
    }
    return events;
  });
  return http::Response::json(200, out);
}

http::Response get_state(Context& ctx, http::Request& req, const std::string& state_key) {
  const Requester& who = req.requester();
  const std::string room_id = room_id_param(req);
  const std::string type(req.path_param("eventType"));
  const bool full_event = req.query("format").value_or("content") == "event";
  const auto now = rooms::now_ms();
  auto out = ctx.db.read([&](storage::Transaction& tx) -> nlohmann::json {
    for (const auto& event : visible_state(tx, room_id, who.user_id)) {
      if (event.type() == type && event.state_key() == state_key) {
        if (full_event) return rooms::client_event(event, who.user_id, who.device_id, now);
        return event.pdu.value("content", nlohmann::json::object());
      }
    }
    throw not_found("Event not found.");
  });
  return http::Response::json(200, out);
}

http::Response put_state(Context& ctx, http::Request& req, const std::string& state_key) {
  const Requester& who = req.requester();
  const std::string room_id = room_id_param(req);
  const std::string type(req.path_param("eventType"));
  const UserRestrictions restrictions = restrictions_of(ctx, who.user_id);
  check_send_limit(ctx, who.user_id, restrictions);
  // A shadow-banned user's state events go nowhere, except their own
  // membership (leaving a room must still work).
  if (restrictions.shadow_banned && type != "m.room.member") {
    return http::Response::json(200, nlohmann::json{{"event_id", fake_event_id()}});
  }
  // A join sent as a state event costs what /join does: same limit.
  if (type == "m.room.member" && state_key == who.user_id && req.json().is_object() &&
      req.json().value("membership", nlohmann::json()) == "join") {
    ctx.rate_limiter.check(RateLimitedAction::join, who.user_id);
  }
  // Content checks, and the canonical alias's directory check, are made by
  // the room service's pipeline for every way a state event is sent.
  rooms::NewEvent event{
      .type = type, .sender = who.user_id, .content = req.json(), .state_key = state_key};
  auto sent = sent_or_throw(ctx.rooms.send(room_id, event));
  return http::Response::json(200, nlohmann::json{{"event_id", sent.event_id}});
}

}  // namespace

void add_room_state_routes(http::Router& router, Context& ctx) {
  const std::string base = "/_matrix/client/v3/rooms/{roomId}/state";
  router.add("GET", base, [&ctx](http::Request& req) { return get_all_state(ctx, req); });
  // The state key may be empty: ".../state/{type}" and ".../state/{type}/".
  for (const char* suffix : {"/{eventType}", "/{eventType}/"}) {
    router.add("GET", base + suffix,
               [&ctx](http::Request& req) { return get_state(ctx, req, ""); });
    router.add("PUT", base + suffix, [&ctx](http::Request& req) { return put_state(ctx, req, ""); },
               {.body = http::BodyMode::json});
  }
  router.add("GET", base + "/{eventType}/{stateKey}", [&ctx](http::Request& req) {
    return get_state(ctx, req, std::string(req.path_param("stateKey")));
  });
  const http::RouteOptions json{.body = http::BodyMode::json};
  router.add(
      "PUT", base + "/{eventType}/{stateKey}",
      [&ctx](http::Request& req) {
        return put_state(ctx, req, std::string(req.path_param("stateKey")));
      },
      json);
}

}  // namespace eltrix::client
