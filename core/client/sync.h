// GET /_matrix/client/v3/sync (spec: "Syncing"). A sync with nothing new
// waits without holding a thread: the request is parked (http::Deferred) and
// the notifier re-runs it when something for the user or their rooms arrives.
#pragma once

#include "client/context.h"
#include "http/router.h"

namespace eltrix::client {

void add_sync_routes(http::Router& router, Context& ctx);

}  // namespace eltrix::client
