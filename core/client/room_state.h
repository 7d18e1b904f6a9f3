// Room state (spec: "Getting events for a room" / "Sending events to a room"):
// GET/PUT /rooms/{roomId}/state/{eventType}/{stateKey} and GET .../state.
#pragma once

#include "client/context.h"
#include "http/router.h"

namespace eltrix::client {

void add_room_state_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
