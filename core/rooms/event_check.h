// Pipeline phase 2, every event: may it enter the room? For a remote event
// first its signatures and content hash; then, for every event, the
// authorization rules against its auth events and against the state before
// it (the resolution of its prev_events' states); a remote event that passes
// both but not the room's current state is soft-failed (spec: "Checks
// performed on receipt of a PDU"). Returns an Outcome, never throws one.
#pragma once

#include "rooms/event_outcome.h"
#include "rooms/key_ring.h"
#include "rooms/pending_event.h"

#include <cstddef>

namespace eltrix::rooms {

/// The largest PDU the spec allows (64 KiB of canonical JSON).
inline constexpr std::size_t kMaxPduBytes = 65536;

/// May modify `event`: a remote event whose content hash does not match is
/// redacted (spec), and a redaction that may not be applied loses its target.
Outcome check_event(storage::Transaction& tx, PendingEvent& event, const KeyRing& keys);

}  // namespace eltrix::rooms
