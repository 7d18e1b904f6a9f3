#include "rooms/event_build.h"

#include "errors/error.h"
#include "matrix/auth_rules.h"
#include "matrix/canonical_json.h"
#include "matrix/event_hash.h"
#include "matrix/state_content.h"
#include "rooms/build_context.h"
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

std::vector<std::pair<std::string, std::string>> auth_keys_before_build(const NewEvent& event) {
  // What auth_event_keys() reads of an event that is no m.room.member.
  return matrix::auth_event_keys({{"type", event.type}, {"sender", event.sender}});
}

Outcome build_local_event(storage::Transaction& tx, const RoomInfo& room, const NewEvent& event,
                          const matrix::SigningKey& key, std::string_view server_name,
                          PendingEvent& out, std::optional<SentEvent>& earlier,
                          BuildContext* read) {
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
  // events form a chain until another server's events, or two local
  // messages sent at once (RoomLock::shared), fork it). Naming them all
  // merges the forks. auth_events: from the current state, which is the
  // resolution of those extremities, i.e. the state before this event.
  BuildContext context = read != nullptr
                             ? std::move(*read)
                             : read_build_context(tx, room.room_id, matrix::auth_event_keys(pdu),
                                                  event.txn, event.sender);
  if (context.earlier) {
    earlier = std::move(context.earlier);
    return Outcome::accepted();
  }
  nlohmann::json prev = nlohmann::json::array();
  std::int64_t depth = 0;
  bool one_state = true;
  for (const auto& extremity : context.extremities) {
    out.prev_events.push_back(extremity.event_id);
    prev.push_back(extremity.event_id);
    depth = std::max(depth, extremity.depth);
    if (out.prev_events.size() == 1) {
      out.state_before.group = extremity.state_after;
    } else if (extremity.state_after != out.state_before.group) {
      one_state = false;
    }
  }
  out.extremities_seen = out.prev_events;
  if (!one_state) out.state_before = resolve_state(tx, room.room_id, out.prev_events);
  out.depth = depth + 1;
  pdu["prev_events"] = prev;
  pdu["depth"] = out.depth;

  nlohmann::json auth_events = nlohmann::json::array();
  for (auto& stored : context.auth_events) {
    out.auth_events.push_back(stored.event_id);
    auth_events.push_back(stored.event_id);
    out.auth_event_rows.push_back(std::move(stored));
  }
  pdu["auth_events"] = auth_events;
  const bool complete = context.extremities.size() < kMaxPrevEvents;
  out.auth_events_are_state_before = complete;
  out.extremities_complete = complete;

  matrix::add_content_hash(pdu);
  matrix::sign_event(pdu, key, server_name, *out.version);
  out.event_id = matrix::compute_event_id(pdu, *out.version);
  out.text = matrix::canonical_json(pdu);
  return Outcome::accepted();
}

}  // namespace eltrix::rooms
