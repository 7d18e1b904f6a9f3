// The state at every event, as state groups (migration 0010): each event
// points at the group of the state before it and the group after it. A group
// is a delta against an earlier group, or a whole copy once a chain of deltas
// reaches kMaxStateChain, so reading any state walks a bounded chain.
// std::nullopt stands for the empty state (before m.room.create).
#pragma once

#include "rooms/event_store.h"
#include "storage/database.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eltrix::rooms {

/// (type, state_key) -> event_id.
using StateMap = std::map<std::pair<std::string, std::string>, std::string>;
using StateGroup = std::optional<std::int64_t>;

/// Deltas a group may stack on a whole copy (the migration's backfill uses
/// the same number).
inline constexpr int kMaxStateChain = 100;

/// The group for the state of `base` changed by `delta` (new entries win):
/// `base` itself when `delta` is empty.
StateGroup store_state_group(storage::Transaction& tx, std::string_view room_id, StateGroup base,
                             const StateMap& delta);
/// A group for `state` exactly, stored as a delta against `base` (whose state
/// must be a subset-by-key of it or differ only in values: state only grows).
StateGroup store_state_as_delta(storage::Transaction& tx, std::string_view room_id, StateGroup base,
                                const StateMap& state);

StateMap state_map_of(storage::Transaction& tx, StateGroup group);
/// The state events of the group, in stream order.
std::vector<StoredEvent> state_events_of(storage::Transaction& tx, StateGroup group);
/// The event for (type, state_key) in the group's state.
std::optional<StoredEvent> state_event_of(storage::Transaction& tx, StateGroup group,
                                          std::string_view type, std::string_view state_key);

/// The group of the room's current state as of stream position `position`
/// (events.current_after of the last event persisted by then).
StateGroup state_group_at(storage::Transaction& tx, std::string_view room_id,
                          std::int64_t position);

struct EventState {
  StateGroup before;
  StateGroup after;
};
/// The state groups before and after a stored event (nullopt: no such event).
std::optional<EventState> event_state(storage::Transaction& tx, std::string_view event_id);

}  // namespace eltrix::rooms
