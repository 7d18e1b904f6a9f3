// Sending and reading room events (spec: "Sending events to a room",
// "Redactions", "Getting events for a room", "Syncing" /messages and
// /context).
#pragma once

#include "client/context.h"
#include "http/router.h"

namespace eltrix::client {

void add_room_events_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
