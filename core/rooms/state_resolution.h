// The state after several events of a room merged: the state before an event
// with several prev_events, and the current state from several forward
// extremities. Until federation this is a trivial resolution (the union;
// where two states disagree, the event latest in topological order wins);
// state resolution v2 replaces resolve_state() alone.
#pragma once

#include "rooms/state_groups.h"

#include <string>
#include <string_view>
#include <vector>

namespace eltrix::rooms {

struct ResolvedState {
  /// Set when every input had the same state: that group, nothing to store.
  bool single = true;
  StateGroup group;
  /// Otherwise: the merged state, to store as a delta against `group`.
  StateMap state;
};

/// The merged state after `event_ids` (stored events of `room_id`).
ResolvedState resolve_state(storage::Transaction& tx, std::string_view room_id,
                            const std::vector<std::string>& event_ids);

/// The group for resolve_state()'s answer (stored when it is a merge).
StateGroup resolved_group(storage::Transaction& tx, std::string_view room_id,
                          const ResolvedState& resolved);

}  // namespace eltrix::rooms
