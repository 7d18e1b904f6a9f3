#include "rooms/current_state_update.h"

namespace eltrix::rooms {

namespace {

void put_current(storage::Transaction& tx, std::string_view room_id, const std::string& type,
                 const std::string& state_key, const std::string& event_id,
                 const std::string& membership, std::int64_t stream) {
  tx.exec(
      "INSERT INTO current_state (room_id, type, state_key, event_id, stream_ordering) "
      "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (room_id, type, state_key) "
      "DO UPDATE SET event_id = EXCLUDED.event_id, stream_ordering = EXCLUDED.stream_ordering",
      room_id, type, state_key, event_id, stream);
  if (type == "m.room.member" && !membership.empty()) {
    tx.exec(
        "INSERT INTO room_memberships (user_id, room_id, membership, event_id, stream_ordering) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, room_id) DO UPDATE SET "
        "membership = EXCLUDED.membership, event_id = EXCLUDED.event_id, "
        "stream_ordering = EXCLUDED.stream_ordering, forgotten = false",
        state_key, room_id, membership, event_id, stream);
  }
}

}  // namespace

void advance_current_state(storage::Transaction& tx, const PendingEvent& event,
                           std::int64_t stream) {
  if (!event.state_key) return;
  const std::string membership =
      event.type == "m.room.member"
          ? event.pdu.value("content", nlohmann::json::object()).value("membership", "")
          : "";
  put_current(tx, event.room.room_id, event.type, *event.state_key, event.event_id, membership,
              stream);
}

StateGroup resolve_current_state(storage::Transaction& tx, std::string_view room_id) {
  std::vector<std::string> extremities;
  for (const auto& row :
       tx.exec("SELECT event_id FROM room_forward_extremities WHERE room_id = $1", room_id)) {
    extremities.push_back(row[0].as<std::string>());
  }
  const ResolvedState resolved = resolve_state(tx, room_id, extremities);
  const StateGroup group = resolved_group(tx, room_id, resolved);
  const StateMap wanted = resolved.single ? state_map_of(tx, resolved.group) : resolved.state;
  StateMap now;
  for (const auto& row :
       tx.exec("SELECT type, state_key, event_id FROM current_state WHERE room_id = $1", room_id)) {
    now[{row[0].as<std::string>(), row[1].as<std::string>()}] = row[2].as<std::string>();
  }
  std::vector<std::string> changed;
  for (const auto& [key, event_id] : wanted) {
    auto it = now.find(key);
    if (it == now.end() || it->second != event_id) changed.push_back(event_id);
  }
  // State only grows: an entry of the current state is replaced, never
  // dropped, by a resolution that includes it.
  if (changed.empty()) return group;
  for (const auto& row :
       tx.exec("SELECT event_id, type, state_key, coalesce(membership, ''), stream_ordering "
               "FROM events WHERE event_id = ANY($1::text[])",
               pg_text_array(changed))) {
    put_current(tx, room_id, row[1].as<std::string>(), row[2].as<std::string>(),
                row[0].as<std::string>(), row[3].as<std::string>(), row[4].as<std::int64_t>());
  }
  return group;
}

}  // namespace eltrix::rooms
