#include "client/room_events.h"

#include "client/json_body.h"
#include "client/rate_limit.h"
#include "client/room_access.h"
#include "client/user_restrictions.h"
#include "matrix/ids.h"
#include "rooms/aggregations.h"
#include "rooms/event_relations.h"
#include "rooms/room_scan.h"
#include "rooms/visibility.h"
#include "storage/stream.h"
#include "sync/filter.h"
#include "sync/token.h"

#include <algorithm>
#include <charconv>
#include <set>

namespace eltrix::client {

namespace {

constexpr std::size_t kDefaultLimit = 10;
constexpr std::size_t kMaxLimit = 1000;

std::string event_id_param(const http::Request& req) {
  std::string id(req.path_param("eventId"));
  if (!matrix::is_valid_event_id(id)) throw invalid_param("'" + id + "' is not a valid event ID");
  return id;
}

std::string txn_id_param(const http::Request& req) {
  std::string id(req.path_param("txnId"));
  if (id.empty() || id.size() > 255) throw invalid_param("txnId must be 1 to 255 bytes");
  return id;
}

/// What a client may relate to (Synapse's checks, refused before anything
/// is built): the parent must be in the same room when this server knows it
/// (400 M_INVALID_PARAM); a thread cannot start from an event that itself
/// relates to another by anything but m.thread (spec "Threading", validating
/// m.thread relationships; a reply in a thread joins it); a user reacts with
/// one key once per event (400 M_DUPLICATE_ANNOTATION). One query, only for
/// events that declare a relation.
/// A retried transaction is answered with its first event, whatever these
/// checks would say now (the pipeline finds it), so they are skipped for it.
void check_relation(Context& ctx, const std::string& room_id, const rooms::NewEvent& event) {
  auto relation = rooms::relation_of(event.content);
  if (!relation) return;
  const std::string& sender = event.sender;
  const auto key =
      relation->rel_type == "m.annotation" ? relation->key : std::optional<std::string>();
  auto parent = ctx.db.read([&](storage::Transaction& tx) {
    return tx.exec_optional(
        "SELECT e.room_id, EXISTS (SELECT 1 FROM event_relations x WHERE x.event_id = e.event_id "
        "AND x.rel_type <> 'm.thread'), EXISTS (SELECT 1 FROM event_relations a "
        "WHERE a.relates_to_id = e.event_id AND a.rel_type = 'm.annotation' AND a.sender = $2 "
        "AND a.aggregation_key = $3), EXISTS (SELECT 1 FROM event_transactions t "
        "WHERE t.user_id = $2 AND t.device_id = $4 AND t.endpoint = $5 AND t.txn_id = $6) "
        "FROM events e WHERE e.event_id = $1",
        relation->parent, sender, key, event.txn->device_id, event.txn->endpoint,
        event.txn->txn_id);
  });
  if (!parent || (*parent)[3].as<bool>()) return;
  if ((*parent)[0].as<std::string>() != room_id) {
    throw invalid_param("Relations must be in the same room");
  }
  if (relation->rel_type == "m.thread" && (*parent)[1].as<bool>()) {
    throw invalid_param("Cannot start a thread from an event with a relationship");
  }
  if ((*parent)[2].as<bool>()) {
    throw http::MatrixError(400, "M_DUPLICATE_ANNOTATION",
                            "You already reacted to this event with this key");
  }
}

http::Response send_message(Context& ctx, http::Request& req) {
  const Requester& who = req.requester();
  const std::string room_id = room_id_param(req);
  const UserRestrictions restrictions = restrictions_of(ctx, who.user_id);
  check_send_limit(ctx, who.user_id, restrictions);
  if (restrictions.shadow_banned) {
    return http::Response::json(200, nlohmann::json{{"event_id", fake_event_id()}});
  }
  rooms::NewEvent event{.type = std::string(req.path_param("eventType")),
                        .sender = who.user_id,
                        .content = req.json(),
                        .txn = rooms::Transaction{who.device_id, txn_id_param(req), {}}};
  event.txn->endpoint = rooms::send_endpoint(room_id, event.type);
  if (event.type == "m.room.redaction") {
    auto redacts = optional_string(req.json(), "redacts");
    if (!redacts) throw bad_json("m.room.redaction needs content.redacts");
    event.redacts = *redacts;
  }
  check_relation(ctx, room_id, event);
  auto sent = sent_or_throw(ctx.rooms.send(room_id, event));
  return http::Response::json(200, nlohmann::json{{"event_id", sent.event_id}});
}

http::Response redact(Context& ctx, http::Request& req) {
  const Requester& who = req.requester();
  const std::string room_id = room_id_param(req);
  const UserRestrictions restrictions = restrictions_of(ctx, who.user_id);
  check_send_limit(ctx, who.user_id, restrictions);
  if (restrictions.shadow_banned) {
    return http::Response::json(200, nlohmann::json{{"event_id", fake_event_id()}});
  }
  nlohmann::json content = nlohmann::json::object();
  if (auto reason = optional_string(req.json(), "reason")) content["reason"] = *reason;
  rooms::NewEvent event{.type = "m.room.redaction",
                        .sender = who.user_id,
                        .content = content,
                        .txn = rooms::Transaction{who.device_id, txn_id_param(req), {}},
                        .redacts = event_id_param(req)};
  event.txn->endpoint = rooms::redact_endpoint(room_id, *event.redacts);
  auto sent = sent_or_throw(ctx.rooms.send(room_id, event));
  return http::Response::json(200, nlohmann::json{{"event_id", sent.event_id}});
}

http::Response get_event(Context& ctx, http::Request& req) {
  const Requester& who = req.requester();
  const std::string room_id = room_id_param(req);
  const std::string event_id = event_id_param(req);
  auto out = ctx.db.read([&](storage::Transaction& tx) {
    auto event = rooms::load_event(tx, event_id);
    // An event the user may not see is reported as missing, so its existence
    // does not leak (spec: 404 "not found or no permission").
    // Not found on a replica may only mean "not replayed yet" (the client
    // may have been shown the event by another node): ask the primary.
    if (!event || !event->pdu.contains("room_id") || event->pdu["room_id"] != room_id) {
      tx.need_primary();
      throw not_found("Event not found.");
    }
    rooms::Visibility visibility(tx, room_id, who.user_id);
    if (!visibility.can_see(*event)) {
      tx.need_primary();
      throw not_found("Event not found.");
    }
    const auto now = rooms::now_ms();
    nlohmann::json out = rooms::client_event(*event, who.user_id, who.device_id, now);
    rooms::bundle(out, rooms::load_aggregations(tx, room_id, {&*event}, who.user_id, who.device_id,
                                                now, visibility));
    return out;
  });
  return http::Response::json(200, out);
}

sync::RoomEventFilter room_event_filter(const http::Request& req) {
  auto text = req.query("filter");
  if (!text || text->empty()) return {};
  if (text->size() > sync::kMaxFilterBytes) throw invalid_param("'filter' is too large");
  nlohmann::json parsed = nlohmann::json::parse(*text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    throw invalid_param("'filter' must be a JSON object");
  }
  return sync::parse_filter({{"room", {{"timeline", parsed}}}}).room.timeline;
}

std::size_t limit_param(const http::Request& req) {
  auto text = req.query("limit");
  if (!text) return kDefaultLimit;
  std::size_t limit = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
  if (ec != std::errc() || ptr != text->data() + text->size()) {
    throw invalid_param("'limit' must be a non-negative integer");
  }
  return std::min(limit, kMaxLimit);
}

/// Up to `limit` events of the room visible to the user and matching
/// `filter`, walking in topological order (rooms/topological.h) from `from`
/// and stopping at `to` or when the row budget (rooms.max_events_scanned)
/// runs out; the cursor is where a next page continues.
rooms::ScanResult paginate(Context& ctx, storage::Transaction& tx, const std::string& room_id,
                           rooms::TopologicalKey from, std::optional<rooms::TopologicalKey> to,
                           bool backwards, std::size_t limit, const sync::RoomEventFilter& filter,
                           rooms::Visibility& visibility) {
  constexpr rooms::TopologicalKey kEnd{INT64_MAX, INT64_MAX};
  rooms::ScanRequest request{
      .room_id = room_id,
      .topological = true,
      .topo_from = from,
      .topo_bound = backwards ? to.value_or(rooms::TopologicalKey{}) : to.value_or(kEnd),
      .backwards = backwards,
      .limit = limit,
      .max_rows = ctx.max_events_scanned};
  return rooms::scan_room(
      tx, request, [&](const rooms::StoredEvent& event) { return filter.matches(event.pdu); },
      visibility);
}

/// A /messages token: topological ("t<depth>_<stream>", what /messages and
/// /context hand out) or a stream token from a sync, resolved in the room.
struct PageToken {
  std::optional<rooms::TopologicalKey> key;
  std::optional<std::int64_t> stream;
  [[nodiscard]] std::int64_t stream_part() const { return key ? key->stream : *stream; }
  [[nodiscard]] rooms::TopologicalKey resolve(storage::Transaction& tx,
                                              const std::string& room_id) const {
    return key ? *key : rooms::topological_at_stream(tx, room_id, *stream);
  }
};

std::optional<PageToken> page_token(const http::Request& req, const char* name) {
  auto text = req.query(name);
  if (!text) return std::nullopt;
  if (auto key = rooms::parse_topological_token(*text)) return PageToken{key, std::nullopt};
  std::int64_t position = 0;
  if (!sync::parse_stream_token(*text, position)) {
    throw invalid_param(std::string("Invalid '") + name + "' token");
  }
  return PageToken{std::nullopt, position};
}

/// The member events of the senders of `events`, for lazy-loading clients,
/// from the state the user may see: the current state for members, the state
/// when they left for former members, none otherwise.
nlohmann::json lazy_members(storage::Transaction& tx, const std::string& room_id,
                            const std::vector<rooms::StoredEvent>& events, const Requester& who,
                            rooms::Visibility& visibility, std::int64_t now) {
  nlohmann::json state = nlohmann::json::array();
  auto position = visibility.state_position();
  if (!position) return state;
  std::set<std::string> senders;
  for (const auto& event : events) senders.insert(event.sender());
  for (const auto& member : rooms::member_events_at(
           tx, room_id, std::vector<std::string>(senders.begin(), senders.end()), *position)) {
    state.push_back(rooms::client_event(member, who.user_id, who.device_id, now));
  }
  return state;
}

http::Response messages(Context& ctx, http::Request& req) {
  const Requester& who = req.requester();
  const std::string room_id = room_id_param(req);
  const std::string dir = req.query("dir").value_or("b");
  if (dir != "b" && dir != "f") throw invalid_param("'dir' must be 'b' or 'f'");
  const bool backwards = dir == "b";
  const auto from = page_token(req, "from");
  const auto to = page_token(req, "to");
  const std::size_t limit = limit_param(req);
  const auto filter = room_event_filter(req);
  const auto now = rooms::now_ms();

  auto out = ctx.db.read([&](storage::Transaction& tx) {
    rooms::Visibility visibility(tx, room_id, who.user_id);
    if (!visibility.may_read_history()) {
      tx.need_primary();  // a replica may not have replayed the membership yet
      throw forbidden("You are not a member of room " + room_id);
    }
    // A token from a newer snapshot (a replica behind what the client was shown).
    if (from && !tx.on_primary() && from->stream_part() > storage::current_stream(tx)) {
      tx.need_primary();
    }
    const rooms::TopologicalKey start =
        from ? from->resolve(tx, room_id)
             : (backwards ? rooms::topological_at_stream(tx, room_id, storage::current_stream(tx))
                          : rooms::TopologicalKey{});
    std::optional<rooms::TopologicalKey> end;
    if (to) end = to->resolve(tx, room_id);
    auto page = paginate(ctx, tx, room_id, start, end, backwards, limit, filter, visibility);
    nlohmann::json chunk = nlohmann::json::array();
    for (const auto& event : page.events) {
      chunk.push_back(rooms::client_event(event, who.user_id, who.device_id, now));
    }
    {
      std::vector<const rooms::StoredEvent*> shown;
      shown.reserve(page.events.size());
      for (const auto& event : page.events) shown.push_back(&event);
      rooms::bundle_all(chunk, rooms::load_aggregations(tx, room_id, shown, who.user_id,
                                                        who.device_id, now, visibility));
    }
    // spec: "start" is the token given as `from` when there was one, whatever
    // its form (a sync's s-token stays an s-token for the client).
    const auto given_from = req.query("from");
    nlohmann::json result = {
        {"start",
         given_from && !given_from->empty() ? *given_from : rooms::format_topological_token(start)},
        {"chunk", chunk}};
    // No "end" once there is nothing more in that direction (spec).
    // A filter matching little may end a page early (row budget spent): the
    // client continues from "end" (spec: fewer events than limit is fine).
    if (!page.exhausted) result["end"] = rooms::format_topological_token(page.topo_cursor);
    if (filter.lazy_load_members) {
      result["state"] = lazy_members(tx, room_id, page.events, who, visibility, now);
    }
    return result;
  });
  return http::Response::json(200, out);
}

http::Response context(Context& ctx, http::Request& req) {
  const Requester& who = req.requester();
  const std::string room_id = room_id_param(req);
  const std::string event_id = event_id_param(req);
  const std::size_t limit = limit_param(req);
  const auto filter = room_event_filter(req);
  const auto now = rooms::now_ms();
  auto out = ctx.db.read([&](storage::Transaction& tx) {
    auto event = rooms::load_event(tx, event_id);
    // Not found on a replica may only mean "not replayed yet" (the client
    // may have been shown the event by another node): ask the primary.
    if (!event || !event->pdu.contains("room_id") || event->pdu["room_id"] != room_id) {
      tx.need_primary();
      throw not_found("Event not found.");
    }
    rooms::Visibility visibility(tx, room_id, who.user_id);
    if (!visibility.can_see(*event)) {
      tx.need_primary();
      throw not_found("Event not found.");
    }
    // The spec splits the limit between both sides.
    const std::size_t before_limit = limit / 2;
    const std::size_t after_limit = limit - before_limit;
    // Around the event in topological order: where it sits in the DAG,
    // whenever it arrived.
    auto before = paginate(ctx, tx, room_id, {event->depth, event->stream - 1}, std::nullopt, true,
                           before_limit, filter, visibility);
    auto after = paginate(ctx, tx, room_id, {event->depth, event->stream}, std::nullopt, false,
                          after_limit, filter, visibility);
    auto format = [&](const std::vector<rooms::StoredEvent>& events) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& e : events)
        list.push_back(rooms::client_event(e, who.user_id, who.device_id, now));
      return list;
    };
    nlohmann::json state = nlohmann::json::array();
    if (filter.lazy_load_members) {
      std::vector<rooms::StoredEvent> all = before.events;
      all.push_back(*event);
      all.insert(all.end(), after.events.begin(), after.events.end());
      state = lazy_members(tx, room_id, all, who, visibility, now);
    } else if (visibility.can_see_state_after(*event)) {
      // Seeing an event is not always seeing the room around it: a user's
      // own membership event (a ban, a rejected invite) shows no state.
      for (const auto& e : rooms::state_after_event(tx, event->event_id)) {
        state.push_back(rooms::client_event(e, who.user_id, who.device_id, now));
      }
    }
    nlohmann::json out{{"event", rooms::client_event(*event, who.user_id, who.device_id, now)},
                       {"events_before", format(before.events)},
                       {"events_after", format(after.events)},
                       {"start", rooms::format_topological_token(before.topo_cursor)},
                       {"end", rooms::format_topological_token(after.topo_cursor)},
                       {"state", state}};
    // One aggregation query for the event and both sides.
    std::vector<const rooms::StoredEvent*> shown{&*event};
    for (const auto& e : before.events) shown.push_back(&e);
    for (const auto& e : after.events) shown.push_back(&e);
    const auto aggregations =
        rooms::load_aggregations(tx, room_id, shown, who.user_id, who.device_id, now, visibility);
    rooms::bundle(out["event"], aggregations);
    rooms::bundle_all(out["events_before"], aggregations);
    rooms::bundle_all(out["events_after"], aggregations);
    return out;
  });
  return http::Response::json(200, out);
}

}  // namespace

void add_room_events_routes(http::Router& router, Context& ctx) {
  const http::RouteOptions json{.body = http::BodyMode::json};
  router.add(
      "PUT", "/_matrix/client/v3/rooms/{roomId}/send/{eventType}/{txnId}",
      [&ctx](http::Request& req) { return send_message(ctx, req); }, json);
  router.add(
      "PUT", "/_matrix/client/v3/rooms/{roomId}/redact/{eventId}/{txnId}",
      [&ctx](http::Request& req) { return redact(ctx, req); }, json);
  router.add("GET", "/_matrix/client/v3/rooms/{roomId}/event/{eventId}",
             [&ctx](http::Request& req) { return get_event(ctx, req); });
  router.add("GET", "/_matrix/client/v3/rooms/{roomId}/messages",
             [&ctx](http::Request& req) { return messages(ctx, req); });
  router.add("GET", "/_matrix/client/v3/rooms/{roomId}/context/{eventId}",
             [&ctx](http::Request& req) { return context(ctx, req); });
}

}  // namespace eltrix::client
