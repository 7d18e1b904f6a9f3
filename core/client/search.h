// Server-side search (spec: "Server Side Search"):
// POST /_matrix/client/v3/search?next_batch=...
// Room events only (the spec's one category), matched with PostgreSQL
// full-text search over content.body, content.name and content.topic
// (migration 0018's expression index), in the rooms the user is joined to;
// every result, and every event of its context, passes the one visibility
// check. order_by rank or recent, event_context (before_limit, after_limit,
// include_profile), groupings by room_id or sender, include_state,
// next_batch, a RoomEventFilter, count and highlights.
#pragma once

#include "client/context.h"
#include "http/router.h"

namespace eltrix::client {

void add_search_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
