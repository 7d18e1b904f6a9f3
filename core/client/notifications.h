// GET /_matrix/client/v3/notifications (spec: "Push Notifications", "Listing
// notifications"): the events that notified the user, newest first, as the
// notification evaluator recorded them (services/push_evaluation.h; D49).
#pragma once

#include "http/router.h"

namespace eltrix::client {

struct Context;

void add_notifications_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
