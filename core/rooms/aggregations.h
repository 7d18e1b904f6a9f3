// Bundled aggregations (spec: "Aggregations of child events"): the summary of
// an event's children that the server adds as unsigned["m.relations"] to
// every event it returns from /messages, /context, /event and /relations:
// - m.thread: the thread's newest reply, its reply count and whether the
//   requesting user took part;
// - m.reference: the IDs of the events referencing it;
// - m.replace: the newest edit by the original sender, as the whole edit
//   event (spec v1.7 and later: the server bundles it and leaves the
//   original's content alone; the client applies it).
// One query per response, whatever the number of events (and one more when
// a thread's newest reply is shown: its own edit).
#pragma once

#include "rooms/event_store.h"
#include "rooms/visibility.h"
#include "storage/database.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace eltrix::rooms {

/// Event ID -> its unsigned["m.relations"], for those that have children.
using Aggregations = std::map<std::string, nlohmann::json>;

/// The aggregations of `events` (all of room `room_id`) as `user_id` may see
/// them: a bundled event the user may not see leaves out what it would
/// describe. At most one query, and one more for visibility when needed.
Aggregations load_aggregations(storage::Transaction& tx, std::string_view room_id,
                               const std::vector<const StoredEvent*>& events,
                               std::string_view user_id, std::string_view device_id,
                               std::int64_t now, Visibility& visibility);

/// Adds the aggregations of the client event `event` (a client_event()
/// result), if it has any.
void bundle(nlohmann::json& event, const Aggregations& aggregations);

/// bundle() on each event of a JSON array.
void bundle_all(nlohmann::json& events, const Aggregations& aggregations);

}  // namespace eltrix::rooms
