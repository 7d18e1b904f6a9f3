// POST /_matrix/client/v3/createRoom (spec: "Creation").
#pragma once

#include "client/context.h"
#include "http/router.h"

namespace eltrix::client {

void add_create_room_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
