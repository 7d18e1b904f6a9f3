// Pushers (spec: "Push Notifications", client behaviour): GET /pushers and
// POST /pushers/set. A pusher tells the server where to push a device's
// notifications (an HTTP push gateway, or email); it belongs to the device
// whose token set it and goes away with it.
#pragma once

#include "http/router.h"

namespace eltrix::client {

struct Context;

/// Most pushers one user may have (each is a delivery target per event).
inline constexpr std::int64_t kMaxPushersPerUser = 100;

void add_pusher_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
