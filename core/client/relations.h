// Relations and threads (spec: "Relationships": "Relations" and "Threading"):
// GET /_matrix/client/v1/rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]]
// GET /_matrix/client/v1/rooms/{roomId}/threads
// The rows come from event_relations and room_threads (migration 0017,
// rooms/event_relations.h); every event returned passes the one visibility
// check and carries its bundled aggregations (rooms/aggregations.h).
#pragma once

#include "client/context.h"
#include "http/router.h"

namespace eltrix::client {

void add_relations_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
