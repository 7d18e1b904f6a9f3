// Device management (spec: "Device management"): GET /devices, GET/PUT/DELETE
// /devices/{deviceId} and POST /delete_devices under /_matrix/client/v3.
// Deleting needs user-interactive authentication with m.login.password and
// removes the devices' access tokens (and their cache entries).
#pragma once

#include "client/context.h"
#include "http/router.h"

namespace eltrix::client {

void add_device_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
