// The remote counterpart of build (rooms/event_build.h): reads a PDU built by
// another server (or fetched by backfill) into a PendingEvent, placing it in
// the DAG by its own prev_events and depth. Check and persist follow as for
// a local event. The caller holds the room's row lock.
#pragma once

#include "rooms/event_outcome.h"
#include "rooms/pending_event.h"

namespace eltrix::rooms {

/// Rejected when the room is unknown or its version not implemented, the PDU
/// is malformed, or a prev_event is unknown (fetching missing events is
/// federation's). `out.event_id` is set as soon as it can be computed.
Outcome read_remote_event(storage::Transaction& tx, const RoomInfo& room, const nlohmann::json& pdu,
                          PendingEvent& out);

}  // namespace eltrix::rooms
