// Reading a room's events in stream order (sync) or topological order
// (/messages, /context: rooms/topological.h) through a filter and the history
// visibility check, with a bound on the rows read per request: a filter that
// matches nothing must not make one request read the whole room (issue 10,
// finding 10). Used by /messages, /context and the sync timeline.
#pragma once

#include "rooms/event_store.h"
#include "rooms/topological.h"
#include "rooms/visibility.h"
#include "storage/database.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace eltrix::rooms {

/// Default of rooms.max_events_scanned: rows one request may read from one
/// room while looking for events that pass its filter.
inline constexpr std::size_t kDefaultMaxEventsScanned = 2000;

struct ScanRequest {
  std::string room_id;
  /// Topological order: `topo_from` and `topo_bound` are used instead of
  /// `from` and `bound`, and the result's `topo_cursor` instead of `cursor`,
  /// with the same meaning.
  bool topological = false;
  TopologicalKey topo_from;
  TopologicalKey topo_bound;
  /// Backwards: positions <= from and > bound. Forwards: > from and <= bound.
  std::int64_t from = 0;
  std::int64_t bound = 0;
  bool backwards = true;
  /// Events to return.
  std::size_t limit = 10;
  /// Rows to read at most (every row counts, whether it matches or not).
  std::size_t max_rows = kDefaultMaxEventsScanned;
  /// Also look for one matching event beyond `limit` (sync's "limited").
  bool probe_one_more = false;
  /// Stop at the first event the user may not see, matching or not (sync's
  /// timeline: the state section describes the timeline's start, so the
  /// timeline must be a contiguous run of what the user may see, with no
  /// hidden state change inside it).
  bool stop_at_hidden = false;
};

struct ScanResult {
  /// In scan order (newest first when going backwards).
  std::vector<StoredEvent> events;
  /// Where a next page continues: going backwards it reads positions <=
  /// cursor, going forwards positions > cursor. Every row between `from` and
  /// the cursor has been looked at.
  std::int64_t cursor = 0;
  TopologicalKey topo_cursor;
  /// Nothing more to read before the bound.
  bool exhausted = false;
  /// The row budget ran out first (the cursor is where it stopped).
  bool budget_spent = false;
  /// stop_at_hidden stopped at an event the user may not see (the cursor
  /// stays before it, so pagination continues through it).
  bool hidden = false;
  /// probe_one_more found a matching event beyond `limit` (not returned; the
  /// cursor stays after the last returned event).
  bool more = false;
};

/// Events of the room that `wanted` accepts and the user may see.
ScanResult scan_room(storage::Transaction& tx, const ScanRequest& request,
                     const std::function<bool(const StoredEvent&)>& wanted, Visibility& visibility);

}  // namespace eltrix::rooms
