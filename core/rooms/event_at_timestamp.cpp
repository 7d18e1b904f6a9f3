#include "rooms/event_at_timestamp.h"

#include <string>

namespace eltrix::rooms {

std::optional<StoredEvent> event_at_timestamp(storage::Transaction& tx, std::string_view room_id,
                                              std::int64_t ts, bool forwards,
                                              Visibility& visibility) {
  // Served by events_room_ts (migration 0015) in either direction.
  const std::string tail =
      forwards ? "WHERE e.room_id = $1 AND e.origin_server_ts >= $2 "
                 "ORDER BY e.origin_server_ts, e.depth, e.stream_ordering LIMIT $3"
               : "WHERE e.room_id = $1 AND e.origin_server_ts <= $2 "
                 "ORDER BY e.origin_server_ts DESC, e.depth DESC, e.stream_ordering DESC LIMIT $3";
  auto events = read_events(tx.exec(select_events(tail), room_id, ts,
                                    static_cast<std::int64_t>(kMaxTimestampCandidates)));
  visibility.prepare(events);
  for (auto& event : events) {
    if (visibility.can_see(event)) return std::move(event);
  }
  return std::nullopt;
}

}  // namespace eltrix::rooms
