// GET /rooms/{roomId}/initialSync (spec: "Room initial sync", deprecated but
// still what Element calls when someone opens a link to a room it has not
// joined): a snapshot of one room, which also lets any signed-in user peek
// into a world_readable room.
#pragma once

#include "client/context.h"
#include "http/router.h"

namespace eltrix::client {

void add_room_initial_sync_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
