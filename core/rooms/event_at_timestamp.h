// The event of a room nearest a point in time (spec: GET
// /rooms/{roomId}/timestamp_to_event), for jumping to a date in history.
#pragma once

#include "rooms/event_store.h"
#include "rooms/visibility.h"

#include <cstdint>
#include <optional>
#include <string_view>

namespace eltrix::rooms {

/// How many candidates are read at most before giving up: events the user
/// may not see are skipped, and a room's hidden stretch must not cost an
/// unbounded scan.
inline constexpr std::size_t kMaxTimestampCandidates = 100;

/// The first event the user may see with origin_server_ts >= `ts`
/// (forwards) or <= `ts` (backwards), nearest `ts` first, equal timestamps in
/// topological order (depth, then stream) in the direction of travel.
std::optional<StoredEvent> event_at_timestamp(storage::Transaction& tx, std::string_view room_id,
                                              std::int64_t ts, bool forwards,
                                              Visibility& visibility);

}  // namespace eltrix::rooms
