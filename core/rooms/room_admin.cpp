// RoomServiceImpl's operations for the admin API: reading a room's whole
// current state and its forward extremities, trimming the extremities and
// purging a room. Writes hold the room's exclusive lock, as a state event's
// send does, so none of them runs beside an event being persisted there.
#include "rooms/room_service_impl.h"

namespace eltrix::rooms {

std::vector<nlohmann::json> RoomServiceImpl::current_state_events(const std::string& room_id) {
  return db_.read([&](storage::Transaction& tx) {
    std::vector<nlohmann::json> out;
    const std::int64_t now = now_ms();
    for (const auto& event : current_state(tx, room_id)) {
      out.push_back(client_event(event, "", "", now));
    }
    return out;
  });
}

std::vector<ForwardExtremity> RoomServiceImpl::forward_extremities(const std::string& room_id) {
  return db_.read([&](storage::Transaction& tx) {
    std::vector<ForwardExtremity> out;
    for (const auto& row :
         tx.exec("SELECT e.event_id, e.depth, e.state_after, e.origin_server_ts "
                 "FROM room_forward_extremities f JOIN events e ON e.event_id = f.event_id "
                 "WHERE f.room_id = $1 ORDER BY e.depth DESC, e.stream_ordering DESC",
                 room_id)) {
      out.push_back({.event_id = row[0].as<std::string>(),
                     .depth = row[1].as<std::int64_t>(),
                     .state_group = storage::nullable<std::int64_t>(row[2]),
                     .received_ts = row[3].as<std::int64_t>()});
    }
    return out;
  });
}

std::size_t RoomServiceImpl::trim_forward_extremities(const std::string& room_id) {
  const storage::FirstStatement lock = lock_room_statement(room_id, RoomLock::exclusive);
  return db_.write(lock, [&](storage::Transaction& tx) -> std::size_t {
    if (!locked_room(tx, room_id)) return 0;
    // The deepest extremity (the newest by stream among equals) stays: it
    // already sits on the room's current state.
    return tx.exec0(
        "DELETE FROM room_forward_extremities WHERE room_id = $1 AND event_id <> "
        "(SELECT f.event_id FROM room_forward_extremities f JOIN events e "
        " ON e.event_id = f.event_id WHERE f.room_id = $1 "
        " ORDER BY e.depth DESC, e.stream_ordering DESC LIMIT 1)",
        room_id);
  });
}

bool RoomServiceImpl::purge_room(const std::string& room_id) {
  const storage::FirstStatement lock = lock_room_statement(room_id, RoomLock::exclusive);
  return db_.write(lock, [&](storage::Transaction& tx) {
    if (!locked_room(tx, room_id)) return false;
    // Children before parents (foreign keys): state group entries before
    // their groups, every room-keyed table before the room.
    tx.exec(
        "DELETE FROM state_group_entries WHERE state_group IN "
        "(SELECT id FROM state_groups WHERE room_id = $1)",
        room_id);
    for (const char* table :
         {"room_extremity_slots", "current_state", "room_memberships", "event_edges",
          "event_transactions", "room_aliases", "receipts", "room_threads", "notifications",
          "push_queue", "events", "state_groups"}) {
      tx.exec(std::string("DELETE FROM ") + table + " WHERE room_id = $1", room_id);
    }
    // Room account data (tags, fully read markers) of every user.
    tx.exec("DELETE FROM account_data WHERE room_id = $1", room_id);
    tx.exec("DELETE FROM rooms WHERE room_id = $1", room_id);
    return true;
  });
}

}  // namespace eltrix::rooms
