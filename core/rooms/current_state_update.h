// The room's current state (tables current_state and its projection
// room_memberships) is the resolution of its forward extremities
// (rooms/state_resolution.h). Kept as a table because every request reads it.
#pragma once

#include "rooms/pending_event.h"

namespace eltrix::rooms {

/// Brings current_state and room_memberships to the state after `event`,
/// which has just become the room's only forward extremity on top of every
/// earlier one: the state changes by the event alone.
void advance_current_state(storage::Transaction& tx, const PendingEvent& event,
                           std::int64_t stream);

/// Recomputes current_state and room_memberships from the room's forward
/// extremities (after an event that forked the DAG, or one arriving out of
/// order), writing only the rows that change.
/// Returns the group of the resolved state.
StateGroup resolve_current_state(storage::Transaction& tx, std::string_view room_id);

}  // namespace eltrix::rooms
