// Session management, logout half (spec: "Login"): POST
// /_matrix/client/v3/logout and /logout/all. A logout deletes the device with
// its tokens and erases the cached token lookups, so it takes effect at once.
#pragma once

#include "client/context.h"
#include "http/router.h"

namespace eltrix::client {

void add_logout_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
