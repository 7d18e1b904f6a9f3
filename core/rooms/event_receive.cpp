#include "rooms/event_receive.h"

#include "matrix/canonical_json.h"
#include "matrix/event_hash.h"

namespace eltrix::rooms {

namespace {

Outcome invalid(std::string why) {
  return Outcome::rejected(Rejection::invalid, std::move(why));
}

bool string_list(const nlohmann::json& pdu, const char* key, std::vector<std::string>& out) {
  auto it = pdu.find(key);
  if (it == pdu.end() || !it->is_array() || it->size() > 20) return false;
  for (const auto& id : *it) {
    if (!id.is_string()) return false;
    out.push_back(id.get<std::string>());
  }
  return true;
}

}  // namespace

Outcome read_remote_event(storage::Transaction& tx, const RoomInfo& room, const nlohmann::json& pdu,
                          PendingEvent& out) {
  out.room = room;
  out.local = false;
  out.auth_events_are_state_before = false;
  out.version = matrix::find_room_version(room.version);
  if (out.version == nullptr) {
    return Outcome::rejected(Rejection::unsupported_version,
                             "Room version " + room.version + " is not supported here");
  }
  if (!pdu.is_object()) return invalid("A PDU must be an object");
  std::string why;
  if (!matrix::is_canonical_compatible(pdu, &why)) return invalid("PDU is not valid: " + why);
  auto text_field = [&](const char* key) -> const std::string* {
    auto it = pdu.find(key);
    return it != pdu.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
  };
  const auto* type = text_field("type");
  const auto* sender = text_field("sender");
  if (type == nullptr || sender == nullptr || type->empty()) {
    return invalid("A PDU needs a type and a sender");
  }
  if (pdu.contains("state_key")) {
    const auto* key = text_field("state_key");
    if (key == nullptr) return invalid("state_key must be a string");
    out.state_key = *key;
  }
  if (type->find('\0') != std::string::npos ||
      (out.state_key && out.state_key->find('\0') != std::string::npos)) {
    return invalid("Type and state key must not contain NUL");
  }
  auto depth = pdu.find("depth");
  if (depth == pdu.end() || !depth->is_number_integer() || depth->get<std::int64_t>() < 0) {
    return invalid("depth must be a non-negative integer");
  }
  if (!string_list(pdu, "prev_events", out.prev_events) ||
      !string_list(pdu, "auth_events", out.auth_events)) {
    return invalid("prev_events and auth_events must be lists of at most 20 event IDs");
  }
  out.type = *type;
  out.sender = *sender;
  out.depth = depth->get<std::int64_t>();
  out.pdu = pdu;
  out.pdu.erase("unsigned");
  out.pdu.erase("event_id");
  out.event_id = matrix::compute_event_id(out.pdu, *out.version);
  out.text = matrix::canonical_json(out.pdu);

  if (!out.prev_events.empty()) {
    auto known =
        tx.exec1("SELECT count(*) FROM events WHERE room_id = $1 AND event_id = ANY($2::text[])",
                 room.room_id, pg_text_array(out.prev_events))[0];
    if (known.as<std::size_t>() != out.prev_events.size()) {
      return invalid("Some prev_events are unknown here");
    }
  } else if (out.type != "m.room.create") {
    return invalid("Only m.room.create has no prev_events");
  }
  out.state_before = resolve_state(tx, room.room_id, out.prev_events);
  return Outcome::accepted();
}

}  // namespace eltrix::rooms
