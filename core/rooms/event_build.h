// Pipeline phase 1, local events only: fill in prev_events (the room's
// forward extremities), depth, auth_events (picked from the state before
// the event, which for an event on every extremity is the current state),
// then hash and sign it. Runs under the room's row lock (RoomLock): an
// exclusive holder is alone; two shared holders may name the same parents,
// a fork the next event merges.
#pragma once

#include "matrix/signing.h"
#include "rooms/build_context.h"
#include "rooms/event_outcome.h"
#include "rooms/pending_event.h"

#include <string_view>

namespace eltrix::rooms {

/// Content checks the authorization rules do not make: a malformed event is
/// rejected (Rejection::invalid) before anything is stored.
Outcome check_new_content(const NewEvent& event);

/// Builds `event` for `room` into `out`. Rejected when the room version is
/// not implemented, the content is malformed, or a restricted join has no
/// one to vouch for it. When `event` carries a transaction ID that already
/// sent an event, sets `earlier` to it and builds nothing (accepted).
/// `read`, if given, is what read_build_context() would find, read already
/// with the room's lock (lock_room_and_read_build_context(), for events
/// whose auth_keys_before_build() are all they need).
Outcome build_local_event(storage::Transaction& tx, const RoomInfo& room, const NewEvent& event,
                          const matrix::SigningKey& key, std::string_view server_name,
                          PendingEvent& out, std::optional<SentEvent>& earlier,
                          BuildContext* read = nullptr);

/// The auth events (type, state key) of a local event that is no state
/// event, known before its transaction starts.
std::vector<std::pair<std::string, std::string>> auth_keys_before_build(const NewEvent& event);

}  // namespace eltrix::rooms
