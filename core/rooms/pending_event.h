// An event on its way through the pipeline (rooms/room_service.h): what
// build (local) or parse (remote) produced, what check found out, and what
// persist needs.
#pragma once

#include "matrix/room_version.h"
#include "rooms/event_store.h"
#include "rooms/room_service.h"
#include "rooms/state_resolution.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace eltrix::rooms {

struct PendingEvent {
  RoomInfo room;
  const matrix::RoomVersion* version = nullptr;
  /// Built here (false: received).
  bool local = true;
  nlohmann::json pdu;  ///< signed, hashed (redacted when a remote hash did not match)
  std::string event_id;
  std::string text;  ///< canonical JSON of pdu, as stored

  std::string type;
  std::string sender;
  std::optional<std::string> state_key;
  std::vector<std::string> prev_events;
  std::vector<std::string> auth_events;
  /// The auth events themselves, when build already read them (local).
  std::vector<StoredEvent> auth_event_rows;
  std::int64_t depth = 0;

  /// Local events: the room's forward extremities when it was built (under
  /// the room's lock, so still the extremities when it is persisted).
  std::vector<std::string> extremities_seen;
  /// extremities_seen is every extremity (not only the first 20).
  bool extremities_complete = false;
  /// The state before the event: the resolution of its prev_events' states.
  ResolvedState state_before;
  /// A local event's auth events were picked from the state before it, so
  /// checking against them is checking against that state.
  bool auth_events_are_state_before = false;

  /// m.room.redaction: the event it redacts, when it is to be applied.
  std::optional<StoredEvent> redaction_target;
  std::optional<Transaction> txn;
};

}  // namespace eltrix::rooms
