#include "rooms/event_build.h"

#include "errors/error.h"
#include "matrix/auth_rules.h"
#include "matrix/canonical_json.h"
#include "matrix/event_hash.h"
#include "matrix/state_content.h"
#include "rooms/restricted_join.h"

namespace eltrix::rooms {

Outcome check_new_content(const NewEvent& event) {
  auto invalid = [](std::string why) {
    return Outcome::rejected(Rejection::invalid, std::move(why));
  };
  std::string why;
  if (!matrix::is_canonical_compatible(event.content, &why)) {
    return invalid("Event content is not valid: " + why);
  }
  if (event.type.empty() || event.type.size() > 255) {
    return invalid("Event type must be 1 to 255 bytes");
  }
  if (event.state_key && event.state_key->size() > 255) {
    return invalid("State key must be at most 255 bytes");
  }
  // The type and state key are also stored as columns, which cannot hold a
  // NUL: "m.room.history_visibility\u0000" would be indexed as the real
  // history visibility while clients see another type (storage refuses it
  // too; this answers with the field's name).
  if (event.type.find('\0') != std::string::npos) {
    return invalid("Event type must not contain NUL (\\u0000)");
  }
  if (event.state_key && event.state_key->find('\0') != std::string::npos) {
    return invalid("State key must not contain NUL (\\u0000)");
  }
  if (event.type == "m.room.member" && !event.state_key) {
    return invalid("m.room.member must be a state event");
  }
  // The state events the server interprets must have the shape it reads
  // (issue 10, finding 9): a malformed one would otherwise be stored and
  // misread by every later request.
  if (event.state_key) {
    if (auto bad = matrix::invalid_state_content(event.type, event.content)) return invalid(*bad);
  }
  return Outcome::accepted();
}

Outcome build_local_event(storage::Transaction& tx, const RoomInfo& room, const NewEvent& event,
                          const matrix::SigningKey& key, std::string_view server_name,
                          PendingEvent& out) {
  out.room = room;
  out.local = true;
  out.version = matrix::find_room_version(room.version);
  if (out.version == nullptr) {
    return Outcome::rejected(Rejection::unsupported_version,
                             "Room version " + room.version + " is not supported here");
  }
  if (auto content = check_new_content(event); !content.is_accepted()) return content;
  out.type = event.type;
  out.sender = event.sender;
  out.state_key = event.state_key;
  out.txn = event.txn;

  nlohmann::json& pdu = out.pdu;
  pdu = {{"type", event.type},
         {"room_id", room.room_id},
         {"sender", event.sender},
         {"content", event.content},
         {"origin_server_ts", now_ms()}};
  if (event.state_key) pdu["state_key"] = *event.state_key;
  if (!out.version->creator_is_sender) pdu["origin"] = std::string(server_name);
  if (event.redacts) {
    if (out.version->v11_redaction) {
      pdu["content"]["redacts"] = *event.redacts;
    } else {
      pdu["redacts"] = *event.redacts;
    }
  }

  // Only this server names who authorised a restricted join, whatever the
  // client sent (rooms/restricted_join.h).
  if (event.type == "m.room.member" && event.state_key) {
    try {
      authorise_local_join(tx, room, *out.version, event.sender, *event.state_key, pdu["content"],
                           server_name);
    } catch (const errors::Error& e) {
      return Outcome::rejected(Rejection::forbidden, e.what());
    }
  }

  // prev_events: the room's forward extremities (normally exactly one: local
  // events form a chain until another server's events fork it). Naming them
  // all merges the forks.
  auto extremities = tx.exec(
      "SELECT e.event_id, e.depth, e.state_after FROM room_forward_extremities f "
      "JOIN events e ON e.event_id = f.event_id WHERE f.room_id = $1 "
      "ORDER BY e.depth DESC, e.stream_ordering DESC LIMIT 20",
      room.room_id);
  nlohmann::json prev = nlohmann::json::array();
  std::int64_t depth = 0;
  bool one_state = true;
  for (const auto& row : extremities) {
    out.prev_events.push_back(row[0].as<std::string>());
    prev.push_back(out.prev_events.back());
    depth = std::max(depth, row[1].as<std::int64_t>());
    auto group = storage::nullable<std::int64_t>(row[2]);
    if (out.prev_events.size() == 1) {
      out.state_before.group = group;
    } else if (group != out.state_before.group) {
      one_state = false;
    }
  }
  out.extremities_seen = out.prev_events;
  if (!one_state) out.state_before = resolve_state(tx, room.room_id, out.prev_events);
  out.depth = depth + 1;
  pdu["prev_events"] = prev;
  pdu["depth"] = out.depth;

  // auth_events: from the current state, which is the resolution of the
  // extremities named above, i.e. the state before this event.
  nlohmann::json auth_events = nlohmann::json::array();
  for (const auto& [type, state_key] : matrix::auth_event_keys(pdu)) {
    if (auto current = rooms::current_state_event(tx, room.room_id, type, state_key)) {
      out.auth_events.push_back(current->event_id);
      auth_events.push_back(current->event_id);
      out.auth_event_rows.push_back(std::move(*current));
    }
  }
  pdu["auth_events"] = auth_events;
  out.auth_events_are_state_before = extremities.size() < 20;
  out.extremities_complete = extremities.size() < 20;

  matrix::add_content_hash(pdu);
  matrix::sign_event(pdu, key, server_name, *out.version);
  out.event_id = matrix::compute_event_id(pdu, *out.version);
  out.text = matrix::canonical_json(pdu);
  return Outcome::accepted();
}

}  // namespace eltrix::rooms
