// Pipeline phase 3: store an accepted or soft-failed event, in the caller's
// transaction (which holds the room's row lock, RoomLock), in as few
// statements as it can (one for a local non-state event):
//   - the event row, stamped with the next stream position (when this server
//     learned of it) and its depth (where it sits in the DAG);
//   - its edges (prev_events) and the state groups before and after it;
//   - forward extremities: it replaces those it names and becomes one itself,
//     unless a stored event already names it (it arrived late);
//   - the current state: advanced by the event alone when it sits on every
//     extremity (every local event), else resolved from the extremities;
//   - a redaction it applies, and the sender's transaction ID.
// A soft-failed event is stored with its state but is no extremity and does
// not change the current state.
#pragma once

#include "errors/error.h"
#include "rooms/after_commit.h"
#include "rooms/event_outcome.h"
#include "rooms/pending_event.h"

namespace eltrix::rooms {

/// Thrown by RoomServiceImpl::send() when a send still collides with
/// concurrent ones after its retries (the same transaction ID, the same
/// event, an extremity slot's number): the client may retry (503).
struct SendCollision : errors::Error {
  SendCollision()
      : errors::Error(errors::Kind::transient, "M_UNKNOWN",
                      "Another request is sending the same event; retry") {}
};

CommittedEvent persist_event(storage::Transaction& tx, const PendingEvent& event,
                             const Outcome& outcome);

}  // namespace eltrix::rooms
