// GET /_matrix/client/v1/rooms/{roomId}/timestamp_to_event (spec: "Jumping
// to a date"): the event nearest a time, in the direction asked.
#pragma once

#include "client/context.h"
#include "http/router.h"

namespace eltrix::client {

void add_room_timestamp_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
