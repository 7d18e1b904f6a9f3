// Every route of the Client-Server API, registered by spec area.
#pragma once

#include "client/context.h"
#include "http/router.h"

namespace eltrix::client {

/// Adds the routes of every area (each area's add_*_routes) to `router`.
/// `ctx` must outlive the server.
void add_client_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
